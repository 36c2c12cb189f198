#pragma once

#include <QCoreApplication>
#include <QList>
#include <QString>

// Payloads an operator starts from. The first is the seed article's case: the
// backend telling a rider's page that the bike's lock has closed.
class PushTemplates final
{
    Q_DECLARE_TR_FUNCTIONS(PushTemplates)
public:
    struct Template
    {
        QString name;
        QString payload; // pretty-printed JSON object, without "uid"
    };
    static QList<Template> all();
};
