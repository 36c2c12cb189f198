#include "MainWindow.h"

#include "AttachDialog.h"
#include "ClusterStatus.h"
#include "GatewaySettings.h"
#include "GatewaySource.h"
#include "LogModel.h"
#include "LogPanel.h"
#include "MessageBanner.h"
#include "OnlineModel.h"
#include "OnlinePanel.h"
#include "PushPanel.h"
#include "RemoteConsole.h"
#include "ServerStatusBar.h"
#include "SettingsDialog.h"
#include "StatsChart.h"
#include "StatsCounters.h"
#include "StatsSampler.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

#include <memory>

namespace {
QWidget *padded(QWidget *inner, QWidget *parent)
{
    auto *box = new QWidget(parent);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->addWidget(inner);
    return box;
}
} // namespace

MainWindow::MainWindow(GatewaySource *source, GatewaySettings *settings, QWidget *parent)
    : QMainWindow(parent)
    , m_source(source)
    , m_gatewaySettings(source->canEditSettings() ? settings : nullptr)
{
    Q_INIT_RESOURCE(pushconsole);
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/pushconsole.svg")));

    m_banner = new MessageBanner(this);
    m_cluster = new ClusterStatus(source, this);
    m_online = new OnlinePanel(source, m_cluster, this);
    m_push = new PushPanel(source, m_online->model(), this);
    m_log = new LogPanel(source, source->eventCapacity(), this);
    m_sampler = new StatsSampler(source, this);
    m_chart = new StatsChart(m_sampler, this);
    m_chart->setObjectName(QStringLiteral("statsChart"));
    m_counters = new StatsCounters(source, this);
    m_status = new ServerStatusBar(source, m_cluster, this);
    setStatusBar(m_status);

    // Watching at the left (who is online, what goes through), acting at
    // the right (push by hand, the trend).
    m_leftSplitter = new QSplitter(Qt::Vertical, this);
    m_leftSplitter->setObjectName(QStringLiteral("leftSplitter"));
    m_leftSplitter->addWidget(padded(m_online, this));
    m_leftSplitter->addWidget(padded(m_log, this));
    m_leftSplitter->setStretchFactor(0, 1);
    m_leftSplitter->setStretchFactor(1, 1);
    m_leftSplitter->setChildrenCollapsible(false);

    m_rightSplitter = new QSplitter(Qt::Vertical, this);
    m_rightSplitter->setObjectName(QStringLiteral("rightSplitter"));
    m_rightSplitter->addWidget(padded(m_push, this));
    // The chart, and under it the cluster and offline counters when on.
    auto *stats = new QWidget(this);
    auto *statsLayout = new QVBoxLayout(stats);
    statsLayout->setContentsMargins(0, 0, 0, 0);
    statsLayout->setSpacing(0);
    statsLayout->addWidget(m_chart, 1);
    statsLayout->addWidget(m_counters);
    m_rightSplitter->addWidget(padded(stats, this));
    m_rightSplitter->setStretchFactor(0, 3);
    m_rightSplitter->setStretchFactor(1, 1);
    m_rightSplitter->setChildrenCollapsible(false);

    m_mainSplitter = new QSplitter(Qt::Horizontal, this);
    m_mainSplitter->setObjectName(QStringLiteral("mainSplitter"));
    m_mainSplitter->addWidget(m_leftSplitter);
    m_mainSplitter->addWidget(m_rightSplitter);
    m_mainSplitter->setStretchFactor(0, 5);
    m_mainSplitter->setStretchFactor(1, 2);
    m_mainSplitter->setChildrenCollapsible(false);

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_banner);
    layout->addWidget(m_mainSplitter, 1);
    setCentralWidget(central);
    connect(m_banner, &MessageBanner::retryRequested, this, &MainWindow::startListeners);
    connect(m_banner, &MessageBanner::settingsRequested, this, &MainWindow::openSettings);

    createActions();
    createMenus();

    connect(m_online, &OnlinePanel::selectionChanged, this, [this](const QStringList &uids) {
        m_push->setTargets(uids);
        updateActions();
    });
    connect(m_online->model(), &OnlineModel::countsChanged, m_status, &ServerStatusBar::setOnline);
    // A selected uid may bind here or leave without a selection change.
    connect(m_online->model(), &OnlineModel::countsChanged, this, &MainWindow::updateActions);
    connect(m_log, &LogPanel::statusMessage, this,
        [this](const QString &text) { statusBar()->showMessage(text, 8000); });
    connect(m_cluster, &ClusterStatus::attached, this, &MainWindow::updateTitle);
    connect(source, &GatewaySource::linkStateChanged, this, &MainWindow::updateLink);
    connect(source, &GatewaySource::listeningChanged, this, [this](bool listening) {
        if (listening)
            m_banner->hide();
        updateTitle();
        updateActions();
    });

    updateLink();
    updateActions();
    // A first start takes 1440×900 where there is room; later starts restore
    // the operator's layout. Both are brought within the screen.
    resize(1440, 900);
    m_mainSplitter->setSizes({1000, 440});
    m_leftSplitter->setSizes({400, 420});
    m_rightSplitter->setSizes({580, 240});
    m_online->splitter()->setSizes({280, 120});
    m_log->splitter()->setSizes({320, 100});
    restoreLayout();
    fitToScreen();
}

QRect MainWindow::placedOnScreen(const QRect &window, const QRect &room, const QSize &minimum)
{
    QRect placed(window.topLeft(), window.size().boundedTo(room.size()).expandedTo(minimum));
    placed.moveLeft(qMax(room.left(), qMin(placed.left(), room.right() + 1 - placed.width())));
    placed.moveTop(qMax(room.top(), qMin(placed.top(), room.bottom() + 1 - placed.height())));
    return placed;
}

void MainWindow::fitToScreen()
{
    const QScreen *where = screen();
    if (!where)
        return;
    // The frame (title bar, borders) is the window manager's and not known
    // before the window shows: leave it room.
    const QRect room = where->availableGeometry().adjusted(0, 0, -16, -48);
    const QRect placed = placedOnScreen(geometry(), room, minimumSizeHint());
    if (placed.size() != size())
        resize(placed.size());
    if (placed.topLeft() != geometry().topLeft())
        move(placed.topLeft());
}

void MainWindow::updateLink()
{
    // Only a remote source ever leaves Connected. While the link is down
    // the last view stays, greyed: it is no longer live, and nothing in it
    // can act on the gateway.
    const GatewaySource::LinkState link = m_source->linkState();
    m_mainSplitter->setEnabled(link == GatewaySource::LinkState::Connected);
    if (link == GatewaySource::LinkState::Lost) {
        const QString error = m_source->linkError();
        m_banner->showError(error.isEmpty()
                ? tr("The connection to the gateway at %1 was lost; reconnecting…")
                      .arg(m_source->location())
                : error);
    } else if (link == GatewaySource::LinkState::Connected && !m_source->location().isEmpty()) {
        m_banner->hide();
    }
    updateTitle();
}

void MainWindow::attachTo()
{
    auto *dialog = new AttachDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &AttachDialog::attachRequested, this,
        [](const AttachTarget &target) { RemoteConsole::open(target); });
    dialog->open();
}

void MainWindow::createActions()
{
    m_start = new QAction(QIcon(QStringLiteral(":/icons/start.svg")), tr("&Start listeners"), this);
    // Toolbar texts without the menus' mnemonics, which read badly as "(S)" in Chinese.
    m_start->setIconText(tr("Start listeners"));
    m_start->setObjectName(QStringLiteral("startAction"));
    m_start->setShortcut(QKeySequence(Qt::Key_F5));
    m_start->setToolTip(tr("Open the WebSocket and push ports (F5)"));
    connect(m_start, &QAction::triggered, this, &MainWindow::startListeners);

    m_stop = new QAction(QIcon(QStringLiteral(":/icons/stop.svg")), tr("S&top listeners"), this);
    m_stop->setIconText(tr("Stop listeners"));
    m_stop->setObjectName(QStringLiteral("stopAction"));
    m_stop->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
    m_stop->setToolTip(
        tr("Close the ports; connected clients stay and still receive pushes (Shift+F5)"));
    connect(m_stop, &QAction::triggered, this, &MainWindow::stopListeners);

    m_settings = new QAction(QIcon(QStringLiteral(":/icons/settings.svg")), tr("Se&ttings…"), this);
    m_settings->setIconText(tr("Settings…"));
    m_settings->setObjectName(QStringLiteral("settingsAction"));
    m_settings->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    m_settings->setToolTip(tr("Ports, bind addresses and heartbeat (Ctrl+,)"));
    connect(m_settings, &QAction::triggered, this, &MainWindow::openSettings);

    m_kick = new QAction(QIcon(QStringLiteral(":/icons/kick.svg")), tr("&Disconnect uid"), this);
    m_kick->setIconText(tr("Disconnect uid"));
    m_kick->setObjectName(QStringLiteral("kickAction"));
    m_kick->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    m_kick->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_kick->setToolTip(tr("Close every connection of the selected uids (Ctrl+D in the table)"));
    connect(m_kick, &QAction::triggered, this, &MainWindow::kickSelected);

    m_copy = new QAction(QIcon(QStringLiteral(":/icons/copy.svg")), tr("&Copy uid"), this);
    m_copy->setIconText(tr("Copy uid"));
    m_copy->setObjectName(QStringLiteral("copyAction"));
    m_copy->setShortcut(QKeySequence::Copy);
    m_copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_copy->setToolTip(tr("Copy the selected uids to the clipboard (Ctrl+C in the table)"));
    connect(m_copy, &QAction::triggered, this, &MainWindow::copySelectedUids);

    // Only while the online table has the focus: elsewhere Ctrl+C copies text.
    QTableView *online = m_online->view();
    online->addAction(m_kick);
    online->addAction(m_copy);
    online->setContextMenuPolicy(Qt::ActionsContextMenu);

    m_findUid = new QAction(tr("&Find uid"), this);
    m_findUid->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F));
    connect(m_findUid, &QAction::triggered, m_online, &OnlinePanel::focusSearch);
    m_findLog = new QAction(tr("Search the &log"), this);
    m_findLog->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    connect(m_findLog, &QAction::triggered, m_log, &LogPanel::focusFilter);

    m_attach = new QAction(tr("&Attach to…"), this);
    m_attach->setObjectName(QStringLiteral("attachAction"));
    m_attach->setToolTip(tr("Watch a gateway on another machine in a new window"));
    connect(m_attach, &QAction::triggered, this, &MainWindow::attachTo);

    m_quit = new QAction(tr("&Quit"), this);
    m_quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    m_quit->setMenuRole(QAction::QuitRole);
    connect(m_quit, &QAction::triggered, this, &QWidget::close);

    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(18, 18));
    bar->addAction(m_start);
    bar->addAction(m_stop);
    bar->addAction(m_settings);
    bar->addSeparator();
    bar->addAction(m_kick);
    bar->addAction(m_copy);

    // Hidden, not disabled: an attached console never can, and greyed
    // buttons would promise otherwise.
    m_start->setVisible(m_source->canControlListeners());
    m_stop->setVisible(m_source->canControlListeners());
    m_settings->setVisible(m_gatewaySettings != nullptr);
    m_banner->setActionsShown(m_source->canControlListeners(), m_gatewaySettings != nullptr);
}

void MainWindow::createMenus()
{
    QMenu *server = menuBar()->addMenu(tr("&Gateway"));
    server->addAction(m_start);
    server->addAction(m_stop);
    server->addSeparator();
    server->addAction(m_settings);
    server->addSeparator();
    server->addAction(m_attach);
    server->addSeparator();
    server->addAction(m_quit);

    QMenu *online = menuBar()->addMenu(tr("&Online"));
    online->addAction(m_findUid);
    online->addAction(m_copy);
    online->addAction(m_kick);

    QMenu *log = menuBar()->addMenu(tr("&Log"));
    log->addAction(m_findLog);
    log->addAction(m_log->pauseAction());
    log->addAction(m_log->clearAction());
    log->addSeparator();
    log->addAction(m_log->exportAction());

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Push Console"), this, &MainWindow::about);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::updateTitle()
{
    // Attached to a gateway elsewhere: which one, and whether the link is up.
    const QString location = m_source->location();
    if (!location.isEmpty()) {
        const QString node = m_source->nodeName();
        QString title = node.isEmpty() ? tr("Push Console — attached to %1").arg(location)
                                       : tr("Push Console — %1 at %2").arg(node, location);
        if (m_source->linkState() != GatewaySource::LinkState::Connected)
            title += QStringLiteral(" — ") + tr("disconnected");
        else if (!m_source->isListening())
            title += QStringLiteral(" — ") + tr("not listening");
        setWindowTitle(title);
        return;
    }
    // With several gateways, several consoles: the node tells them apart.
    QString title;
    if (m_source->isListening() && m_cluster->isEnabled())
        title = tr("Push Console — node %1 — ws %2, push %3")
                    .arg(m_cluster->nodeId(), m_source->wsAddress(), m_source->textAddress());
    else if (m_source->isListening())
        title =
            tr("Push Console — ws %1, push %2").arg(m_source->wsAddress(), m_source->textAddress());
    else
        title = tr("Push Console — not listening");
    setWindowTitle(title);
}

void MainWindow::updateActions()
{
    const bool listening = m_source->isListening();
    m_start->setEnabled(!listening);
    m_stop->setEnabled(listening);
    m_kick->setEnabled(!kickableUids().isEmpty());
    m_copy->setEnabled(!m_online->selectedUids().isEmpty());
}

void MainWindow::reportListenError(const QString &error)
{
    m_banner->showError(
        tr("The gateway is not listening: %1. Change the ports in the settings or free them, "
           "then retry.")
            .arg(error));
    updateTitle();
    updateActions();
}

void MainWindow::startListeners()
{
    if (!m_source->canControlListeners() || m_source->isListening())
        return;
    QString error;
    if (!m_source->startListeners(&error)) {
        reportListenError(error);
        return;
    }
    statusBar()->showMessage(tr("Listening again."), 5000);
}

void MainWindow::stopListeners()
{
    if (!m_source->canControlListeners())
        return;
    m_source->stopListeners();
    statusBar()->showMessage(
        tr("Listeners closed: no new clients or pushes; connected clients stay."), 8000);
}

void MainWindow::openSettings()
{
    if (!m_gatewaySettings)
        return;
    if (m_settingsDialog) {
        m_settingsDialog->raise();
        m_settingsDialog->activateWindow();
        return;
    }
    const Config previous = m_gatewaySettings->config();
    const bool wasListening = m_source->isListening();
    auto *dialog = new SettingsDialog(
        previous,
        [this](const Config &config) {
            m_source->stopListeners();
            m_gatewaySettings->setConfig(config);
            QString error;
            if (m_source->startListeners(&error))
                return QString();
            reportListenError(error);
            return error;
        },
        this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_settingsDialog = dialog;
    connect(dialog, &QDialog::accepted, this,
        [this] { statusBar()->showMessage(tr("Settings applied; listeners restarted."), 8000); });
    connect(dialog, &QDialog::rejected, this, [this, dialog, previous, wasListening] {
        // A failed attempt left the ports closed: go back to what worked.
        if (!dialog->applyFailed())
            return;
        m_gatewaySettings->setConfig(previous);
        if (wasListening)
            startListeners();
    });
    dialog->open();
}

QStringList MainWindow::kickableUids() const
{
    // In process only this node's connections can be closed from here; an
    // attached gateway routes the kick to the nodes holding the uid.
    return m_source->kicksAcrossCluster() ? m_online->selectedUids()
                                          : m_online->selectedLocalUids();
}

void MainWindow::kickSelected()
{
    const QStringList uids = kickableUids();
    if (uids.isEmpty())
        return;
    // Answered at once in process, after a round trip each when remote: the
    // message waits for the last answer.
    struct Tally
    {
        qsizetype waiting = 0;
        int closed = 0;
        int nodes = 0;
        QStringList errors;
    };
    auto tally = std::make_shared<Tally>();
    tally->waiting = uids.size();
    for (const QString &uid : uids) {
        m_source->kick(uid.toUtf8(), this, [this, uids, tally](const KickResult &r) {
            tally->closed += r.closed;
            tally->nodes += r.nodes;
            if (!r.error.isEmpty())
                tally->errors.append(r.error);
            if (--tally->waiting > 0)
                return;
            if (!tally->errors.isEmpty()) {
                statusBar()->showMessage(tr("Could not disconnect %1: %2")
                                             .arg(uids.join(QStringLiteral(", ")),
                                                 tally->errors.join(QStringLiteral("; "))),
                    8000);
                return;
            }
            const QString names = uids.join(QStringLiteral(", "));
            if (tally->closed == 0 && tally->nodes == 0)
                statusBar()->showMessage(tr("Not connected any more: %1").arg(names), 8000);
            else if (tally->nodes == 0)
                statusBar()->showMessage(
                    tr("Disconnected %1 (connections closed: %2)").arg(names).arg(tally->closed),
                    8000);
            else
                statusBar()->showMessage(tr("Disconnected %1 (connections closed here: %2; other "
                                            "nodes asked to close theirs: %3)")
                                             .arg(names)
                                             .arg(tally->closed)
                                             .arg(tally->nodes),
                    8000);
        });
    }
}

void MainWindow::copySelectedUids()
{
    const QStringList uids = m_online->selectedUids();
    if (uids.isEmpty())
        return;
    QApplication::clipboard()->setText(uids.join(QLatin1Char('\n')));
    statusBar()->showMessage(
        tr("Copied to the clipboard: %1").arg(uids.join(QStringLiteral(", "))), 4000);
}

void MainWindow::about()
{
    QString text = tr("<h3>Push Console %1</h3>"
                      "<p>A WebSocket uid push gateway and its operator console.</p>"
                      "<p>Browsers bind a uid on the WebSocket port; backends write one JSON line "
                      "to the push port and every connection of that uid receives it.</p>")
                       .arg(QCoreApplication::applicationVersion());
    if (!m_source->location().isEmpty())
        text += tr("<p>Attached to the gateway at %1 (version %2).</p>")
                    .arg(m_source->location().toHtmlEscaped(), m_source->version().toHtmlEscaped());
    QMessageBox::about(this, tr("About Push Console"), text);
}

QString MainWindow::layoutGroup() const
{
    // One layout per gateway: a console attached to a server and the local
    // one side by side must not overwrite each other's window on close.
    const QString where = m_source->location();
    if (where.isEmpty())
        return QStringLiteral("window");
    QString key;
    for (const QChar ch : where)
        key += ch.isLetterOrNumber() || ch == u'.' || ch == u'-' ? ch : QChar(u'_');
    return QStringLiteral("window-") + key.left(100);
}

void MainWindow::restoreLayout()
{
    QSettings s;
    // A gateway attached for the first time starts from the local layout.
    const QString own = layoutGroup();
    s.beginGroup(s.childGroups().contains(own) ? own : QStringLiteral("window"));
    restoreGeometry(s.value(QStringLiteral("geometry")).toByteArray());
    restoreState(s.value(QStringLiteral("state")).toByteArray());
    m_mainSplitter->restoreState(s.value(QStringLiteral("mainSplitter")).toByteArray());
    m_leftSplitter->restoreState(s.value(QStringLiteral("leftSplitter")).toByteArray());
    m_rightSplitter->restoreState(s.value(QStringLiteral("rightSplitter")).toByteArray());
    m_online->splitter()->restoreState(s.value(QStringLiteral("onlineSplitter")).toByteArray());
    m_log->splitter()->restoreState(s.value(QStringLiteral("logSplitter")).toByteArray());
    // "onlineHeader" held the columns before the node column came.
    m_online->restoreHeaderState(s.value(QStringLiteral("onlineColumns")).toByteArray());
    m_log->view()->horizontalHeader()->restoreState(
        s.value(QStringLiteral("logHeader")).toByteArray());
}

void MainWindow::saveLayout() const
{
    QSettings s;
    s.beginGroup(layoutGroup());
    s.setValue(QStringLiteral("geometry"), saveGeometry());
    s.setValue(QStringLiteral("state"), saveState());
    s.setValue(QStringLiteral("mainSplitter"), m_mainSplitter->saveState());
    s.setValue(QStringLiteral("leftSplitter"), m_leftSplitter->saveState());
    s.setValue(QStringLiteral("rightSplitter"), m_rightSplitter->saveState());
    s.setValue(QStringLiteral("onlineSplitter"), m_online->splitter()->saveState());
    s.setValue(QStringLiteral("logSplitter"), m_log->splitter()->saveState());
    s.setValue(QStringLiteral("onlineColumns"), m_online->saveHeaderState());
    s.setValue(QStringLiteral("logHeader"), m_log->view()->horizontalHeader()->saveState());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveLayout();
    event->accept();
    Q_EMIT closed();
}
