#pragma once

#include <QMainWindow>
#include <QPointer>

class ClusterStatus;
class GatewaySettings;
class GatewaySource;
class LogPanel;
class MessageBanner;
class OnlinePanel;
class PushPanel;
class QAction;
class QSplitter;
class ServerStatusBar;
class SettingsDialog;
class StatsChart;
class StatsCounters;
class StatsSampler;

// The operator console. It reads and acts on the gateway only through a
// GatewaySource, in this process or remote, and never touches a socket.
// settings is given for a gateway in this process only: the settings
// dialog edits it. Actions the source cannot do are hidden.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(
        GatewaySource *source, GatewaySettings *settings = nullptr, QWidget *parent = nullptr);

    // The listeners could not be opened (at start or later): say so in the
    // window with a way to change the settings and retry.
    void reportListenError(const QString &error);

    OnlinePanel *onlinePanel() const { return m_online; }
    LogPanel *logPanel() const { return m_log; }
    PushPanel *pushPanel() const { return m_push; }
    MessageBanner *banner() const { return m_banner; }

    void startListeners();
    void stopListeners();
    void openSettings();
    void kickSelected();
    // The selected uids a kick can reach.
    QStringList kickableUids() const;
    void copySelectedUids();
    // Gateway → Attach to…: another gateway, in a window of its own.
    void attachTo();

    QAction *startAction() const { return m_start; }
    QAction *stopAction() const { return m_stop; }
    QAction *settingsAction() const { return m_settings; }
    QAction *attachAction() const { return m_attach; }

    // Where a window wanting `window` goes on a screen whose free area is
    // `room`: no larger than it (but not under `minimum`), and moved so that
    // as much of it as fits is on it, its top-left corner always.
    static QRect placedOnScreen(const QRect &window, const QRect &room, const QSize &minimum);

Q_SIGNALS:
    // The operator closed the window: time to close the clients and quit.
    void closed();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createMenus();
    void updateTitle();
    void updateLink();
    void updateActions();
    // The settings group of this window's layout.
    QString layoutGroup() const;
    // A layout saved on a larger screen, or the first start's size on a
    // laptop: brought within the screen the window opens on.
    void fitToScreen();
    void restoreLayout();
    void saveLayout() const;
    void about();

    GatewaySource *m_source;
    GatewaySettings *m_gatewaySettings;
    MessageBanner *m_banner;
    ClusterStatus *m_cluster;
    OnlinePanel *m_online;
    PushPanel *m_push;
    LogPanel *m_log;
    StatsSampler *m_sampler;
    StatsChart *m_chart;
    StatsCounters *m_counters;
    ServerStatusBar *m_status;
    QSplitter *m_mainSplitter;
    QSplitter *m_leftSplitter;
    QSplitter *m_rightSplitter;

    QPointer<SettingsDialog> m_settingsDialog;
    QAction *m_start = nullptr;
    QAction *m_stop = nullptr;
    QAction *m_settings = nullptr;
    QAction *m_kick = nullptr;
    QAction *m_copy = nullptr;
    QAction *m_findUid = nullptr;
    QAction *m_findLog = nullptr;
    QAction *m_attach = nullptr;
    QAction *m_quit = nullptr;
};
