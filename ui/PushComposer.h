#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QString>
#include <QStringList>

// Builds the request line a manual push sends: the payload the operator
// wrote, on one line, with its "uid" member set from the target field. The
// operator's member order and spelling are kept (only insignificant white
// space goes), because the line is exactly what the clients receive.
class PushComposer final
{
    Q_DECLARE_TR_FUNCTIONS(PushComposer)
public:
    struct Result
    {
        QByteArray line; // empty on error
        QString error; // why nothing can be sent
        bool isValid() const { return error.isEmpty(); }
    };
    struct Check
    {
        QString error; // empty: a valid JSON object
        int line = 0; // 1-based position of the error, when there is one
        int column = 0;
        bool hasUid = false;
    };

    // "1001, 1002 a@b" → {"1001", "1002", "a@b"}: commas, semicolons and
    // white space separate uids; duplicates count once.
    static QStringList parseTargets(const QString &text);
    static Check check(const QString &payload);
    static Result compose(const QString &targets, bool broadcast, const QString &payload);

    // Insignificant white space removed; the input must be valid JSON.
    static QByteArray compact(const QByteArray &json);
    // `object` is a compact JSON object; its top-level "uid" gets `uidJson`
    // (replaced where it stands, or put first when there is none).
    static QByteArray withUid(const QByteArray &object, const QByteArray &uidJson);
};
