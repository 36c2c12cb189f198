#pragma once

#include "Event.h"

#include <QJsonObject>
#include <QString>

// The JSON form of an event as the admin stream sends it (docs/admin-stream.md),
// read back into the core's Event. The one place the console does so, kept
// apart so that Event::fromJson() can replace it when the core has one.
namespace EventJson {
// Fills *event from object: "type" (Event::typeName) is required, the other
// fields are optional and unknown keys are ignored. Every field is cut to
// the bounds of Event::limit(). Returns false with *error set, leaving
// *event as it was, for a missing or unknown type or a field of the wrong
// kind.
bool fromJson(const QJsonObject &object, Event *event, QString *error);
} // namespace EventJson
