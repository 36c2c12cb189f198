#include "MainWindow.h"

#include "PushServer.h"

#include <QLabel>

MainWindow::MainWindow(PushServer *server, QWidget *parent)
    : QMainWindow(parent)
    , m_server(server)
{
    auto *label = new QLabel(this);
    label->setAlignment(Qt::AlignCenter);
    setCentralWidget(label);
    connect(m_server, &PushServer::listeningChanged, this, &MainWindow::updateTitle);
    updateTitle();
    label->setText(windowTitle());
    resize(900, 600);
}

void MainWindow::updateTitle()
{
    if (m_server->isListening())
        setWindowTitle(tr("Push Console — ws %1, push %2")
                           .arg(m_server->wsAddress(), m_server->textAddress()));
    else
        setWindowTitle(tr("Push Console — not listening"));
}
