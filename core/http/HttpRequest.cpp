#include "HttpRequest.h"

QByteArrayView HttpRequest::authority() const
{
    if (m_absoluteForm)
        return view(m_authority);
    return header("host");
}

QByteArrayView HttpRequest::header(QByteArrayView name) const
{
    for (const auto &field : m_fields) {
        const QByteArrayView n = view(field.first);
        if (n.size() == name.size() && n.compare(name, Qt::CaseInsensitive) == 0)
            return view(field.second);
    }
    return {};
}

int HttpRequest::headerCount(QByteArrayView name) const
{
    int count = 0;
    for (const auto &field : m_fields) {
        const QByteArrayView n = view(field.first);
        if (n.size() == name.size() && n.compare(name, Qt::CaseInsensitive) == 0)
            ++count;
    }
    return count;
}
