#pragma once

#include "Config.h"

// What the settings dialog edits: the configuration of the gateway running
// in this process. A remote gateway has none to offer (its settings are the
// server's), so the window gets one only for the in-process case.
class GatewaySettings
{
public:
    virtual ~GatewaySettings() = default;
    virtual Config config() const = 0;
    // Takes effect at the next start of the listeners.
    virtual void setConfig(const Config &config) = 0;
};
