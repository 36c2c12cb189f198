#include "PushResult.h"

QByteArray PushResult::replyLine() const
{
    switch (status) {
    case PushStatus::Ok:
        return QByteArrayLiteral("ok\n");
    case PushStatus::Fail:
        return QByteArrayLiteral("fail\n");
    case PushStatus::Queued:
        return QByteArrayLiteral("queued\n");
    case PushStatus::Error:
        break;
    }
    return "error: " + error + '\n';
}

const char *pushSourceName(PushSource source)
{
    switch (source) {
    case PushSource::TextPort:
        return "text";
    case PushSource::Console:
        return "console";
    case PushSource::Http:
        return "http";
    case PushSource::Cluster:
        return "cluster";
    }
    return "unknown";
}

const char *pushStatusName(PushStatus status)
{
    switch (status) {
    case PushStatus::Ok:
        return "ok";
    case PushStatus::Fail:
        return "fail";
    case PushStatus::Error:
        return "error";
    case PushStatus::Queued:
        return "queued";
    }
    return "unknown";
}
