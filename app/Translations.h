#pragma once

#include <QString>

class QCoreApplication;

namespace Translations {
// Installs our catalogue and Qt's own for `language` ("zh_CN", "en"), or for
// the system locale when it is empty. Returns the language in effect.
QString install(QCoreApplication *app, const QString &language);
} // namespace Translations
