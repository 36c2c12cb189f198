#pragma once

#include <QMainWindow>

class PushServer;

// The operator console. It reads the gateway only through PushServer's
// public API and never touches a socket.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(PushServer *server, QWidget *parent = nullptr);

private:
    void updateTitle();

    PushServer *m_server;
};
