#include "Logging.h"

Q_LOGGING_CATEGORY(lcGateway, "pushconsole.gateway", QtInfoMsg)
Q_LOGGING_CATEGORY(lcText, "pushconsole.text", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRouter, "pushconsole.router", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConfig, "pushconsole.config", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "pushconsole.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcCluster, "pushconsole.cluster", QtInfoMsg)
