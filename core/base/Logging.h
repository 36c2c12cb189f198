#pragma once

#include <QLoggingCategory>

// Developer diagnostics (stderr, off by default); operators read the event
// log instead. Enable with QT_LOGGING_RULES="pushconsole.*.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcGateway)
Q_DECLARE_LOGGING_CATEGORY(lcText)
Q_DECLARE_LOGGING_CATEGORY(lcRouter)
Q_DECLARE_LOGGING_CATEGORY(lcConfig)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcCluster)
