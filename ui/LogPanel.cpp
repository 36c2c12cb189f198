#include "LogPanel.h"

#include "EventText.h"
#include "LogExporter.h"
#include "LogFilterProxy.h"
#include "LogModel.h"
#include "TimeText.h"

#include <QAction>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSaveFile>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace {
QToolButton *directionToggle(const QString &text, const QString &icon, QWidget *parent)
{
    auto *b = new QToolButton(parent);
    b->setText(text);
    b->setIcon(QIcon(icon));
    b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    b->setCheckable(true);
    b->setChecked(true);
    b->setAutoRaise(true);
    return b;
}

QToolButton *actionButton(QAction *action, QWidget *parent)
{
    auto *b = new QToolButton(parent);
    b->setDefaultAction(action);
    b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    b->setAutoRaise(true);
    return b;
}
} // namespace

LogPanel::LogPanel(GatewaySource *source, int capacity, QWidget *parent)
    : QWidget(parent)
    , m_model(new LogModel(source, capacity, this))
    , m_proxy(new LogFilterProxy(this))
{
    m_proxy->setSourceModel(m_model);

    m_pause =
        new QAction(QIcon(QStringLiteral(":/icons/pause.svg")), tr("Pause auto-scroll"), this);
    m_pause->setObjectName(QStringLiteral("pauseAction"));
    m_pause->setIconText(tr("Pause"));
    m_pause->setCheckable(true);
    m_pause->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    m_pause->setToolTip(tr("Stop following new events (Ctrl+P); the log still records them"));
    m_clear = new QAction(QIcon(QStringLiteral(":/icons/clear.svg")), tr("Clear log"), this);
    m_clear->setObjectName(QStringLiteral("clearAction"));
    m_clear->setIconText(tr("Clear"));
    m_clear->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    m_clear->setToolTip(tr("Empty the log view (Ctrl+Shift+L)"));
    m_export = new QAction(QIcon(QStringLiteral(":/icons/export.svg")), tr("Export log…"), this);
    m_export->setObjectName(QStringLiteral("exportAction"));
    m_export->setIconText(tr("Export…"));
    m_export->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_S));
    m_export->setToolTip(tr("Save the rows the filter shows as CSV or JSON lines (Ctrl+S)"));
    connect(m_clear, &QAction::triggered, m_model, &LogModel::clear);
    connect(m_export, &QAction::triggered, this, &LogPanel::exportWithDialog);

    auto *in = directionToggle(tr("In"), QStringLiteral(":/icons/dir-in.svg"), this);
    in->setObjectName(QStringLiteral("showIn"));
    in->setToolTip(tr("Messages clients sent after binding"));
    auto *out = directionToggle(tr("Out"), QStringLiteral(":/icons/dir-out.svg"), this);
    out->setObjectName(QStringLiteral("showOut"));
    out->setToolTip(tr("Pushes, from backends and from this console"));
    auto *system = directionToggle(tr("System"), QStringLiteral(":/icons/dir-system.svg"), this);
    system->setObjectName(QStringLiteral("showSystem"));
    system->setToolTip(tr("Connections, binds, closes, listeners and errors"));
    connect(in, &QToolButton::toggled, m_proxy,
        [this](bool on) { m_proxy->setDirectionShown(Event::Direction::In, on); });
    connect(out, &QToolButton::toggled, m_proxy,
        [this](bool on) { m_proxy->setDirectionShown(Event::Direction::Out, on); });
    connect(system, &QToolButton::toggled, m_proxy,
        [this](bool on) { m_proxy->setDirectionShown(Event::Direction::System, on); });

    const int ch = fontMetrics().averageCharWidth();
    m_uidFilter = new QLineEdit(this);
    m_uidFilter->setObjectName(QStringLiteral("logUidFilter"));
    m_uidFilter->setPlaceholderText(tr("Filter uid"));
    m_uidFilter->setToolTip(tr("Show only events whose uid contains this"));
    m_uidFilter->setClearButtonEnabled(true);
    m_uidFilter->setMaximumWidth(ch * 22);
    m_textFilter = new QLineEdit(this);
    m_textFilter->setObjectName(QStringLiteral("logTextFilter"));
    m_textFilter->setPlaceholderText(tr("Search text"));
    m_textFilter->setToolTip(tr("Text, sender or result contains (Ctrl+Shift+F)"));
    m_textFilter->setClearButtonEnabled(true);
    m_textFilter->setMaximumWidth(ch * 40);
    connect(m_uidFilter, &QLineEdit::textChanged, m_proxy, &LogFilterProxy::setUidFilter);
    connect(m_textFilter, &QLineEdit::textChanged, m_proxy, &LogFilterProxy::setTextFilter);

    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("logCount"));

    auto *titleLabel = new QLabel(tr("Message log"), this);
    QFont bold = titleLabel->font();
    bold.setBold(true);
    titleLabel->setFont(bold);

    auto *bar = new QHBoxLayout;
    bar->addWidget(titleLabel);
    bar->addSpacing(8);
    bar->addWidget(in);
    bar->addWidget(out);
    bar->addWidget(system);
    bar->addSpacing(8);
    bar->addWidget(m_uidFilter);
    bar->addWidget(m_textFilter, 1);
    bar->addSpacing(8);
    bar->addWidget(m_count);
    bar->addStretch(0);
    bar->addWidget(actionButton(m_pause, this));
    bar->addWidget(actionButton(m_clear, this));
    bar->addWidget(actionButton(m_export, this));

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("logView"));
    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->setVerticalScrollMode(QAbstractItemView::ScrollPerItem);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_view->horizontalHeader()->setHighlightSections(false);
    m_view->horizontalHeader()->setStretchLastSection(false);
    // Fixed widths, at least what the header needs: sizing to contents
    // would read every row of every batch.
    const QFontMetrics fm = m_view->fontMetrics();
    const auto fit = [this, &fm](int column, const QString &sample) {
        m_view->setColumnWidth(column,
            qMax(fm.horizontalAdvance(sample) + 3 * fm.averageCharWidth(),
                m_view->horizontalHeader()->sectionSizeHint(column) + 8));
    };
    fit(LogModel::TimeColumn, QStringLiteral("00:00:00.000"));
    fit(LogModel::DirectionColumn, QStringLiteral("MM system"));
    fit(LogModel::UidColumn, QStringLiteral("rider@example"));
    fit(LogModel::OriginColumn, QStringLiteral("127.0.0.1:65535"));
    fit(LogModel::SizeColumn, QStringLiteral("9999 B"));
    Event sample;
    sample.type = Event::Type::Push;
    sample.delivered = 16;
    const QString delivered = EventText::result(sample);
    sample.delivered = 0; // a push that went to other nodes only
    const QString elsewhere = EventText::result(sample);
    fit(LogModel::ResultColumn,
        fm.horizontalAdvance(delivered) > fm.horizontalAdvance(elsewhere) ? delivered : elsewhere);
    m_view->horizontalHeader()->setSectionResizeMode(LogModel::TextColumn, QHeaderView::Stretch);
    m_view->setIconSize(QSize(14, 14));

    m_detail = new QPlainTextEdit(this);
    m_detail->setObjectName(QStringLiteral("logDetail"));
    m_detail->setReadOnly(true);
    m_detail->setPlaceholderText(tr("Select an event to see its whole text."));
    m_detail->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_detail->setMinimumHeight(fontMetrics().height() * 3);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setObjectName(QStringLiteral("logSplitter"));
    m_splitter->addWidget(m_view);
    m_splitter->addWidget(m_detail);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_splitter, 1);

    connect(m_model, &LogModel::batchInserted, this, &LogPanel::rowsInserted);
    connect(m_model, &QAbstractItemModel::modelReset, this, &LogPanel::updateCount);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &LogPanel::updateCount);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &LogPanel::updateCount);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this,
        [this](const QModelIndex &, int first, int last) {
            // Paused, the rows on screen stay put while the oldest go.
            if (m_pause->isChecked() && first == 0) {
                QScrollBar *bar = m_view->verticalScrollBar();
                bar->setValue(bar->value() - (last - first + 1));
            }
            updateCount();
        });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        &LogPanel::showDetail);
    connect(m_pause, &QAction::toggled, this, [this](bool paused) {
        if (!paused)
            m_view->scrollToBottom();
    });
    updateCount();
}

void LogPanel::focusFilter()
{
    m_textFilter->setFocus();
    m_textFilter->selectAll();
}

void LogPanel::rowsInserted()
{
    updateCount();
    if (m_pause->isChecked() || m_scrollPending)
        return;
    // After the view has laid out the new rows.
    m_scrollPending = true;
    QTimer::singleShot(0, this, [this] {
        m_scrollPending = false;
        if (!m_pause->isChecked())
            m_view->scrollToBottom();
    });
}

void LogPanel::updateCount()
{
    const QLocale locale;
    const int shown = m_proxy->rowCount();
    const int total = m_model->rowCount();
    QString text = shown == total
        ? tr("%1 events").arg(locale.toString(total))
        : tr("%1 of %2 events").arg(locale.toString(shown), locale.toString(total));
    m_count->setText(text);
    m_count->setToolTip(
        tr("The log keeps the latest %1 events; older ones are dropped (%2 so far).")
            .arg(locale.toString(m_model->capacity()), locale.toString(m_model->dropped())));
}

void LogPanel::showDetail()
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid()) {
        m_detail->clear();
        return;
    }
    const Event e = current.data(LogModel::EventRole).value<Event>();
    QString direction = EventText::direction(e.direction());
    if (e.type == Event::Type::Push)
        direction += QStringLiteral(" (%1)").arg(EventText::source(e.source));
    // One line of facts, then the whole text.
    QStringList facts;
    facts << QDateTime::fromMSecsSinceEpoch(e.time).toString(
        QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    facts << direction;
    if (!e.uid.isEmpty())
        facts << tr("uid %1").arg(QString::fromUtf8(e.uid));
    if (!EventText::origin(e).isEmpty())
        facts << tr("from %1").arg(EventText::origin(e));
    if (e.connection)
        facts << tr("connection %1").arg(e.connection);
    if (e.size >= 0 && e.type != Event::Type::Closed)
        facts << TimeText::bytes(e.size);
    if (!EventText::result(e).isEmpty())
        facts << EventText::result(e);
    QString text = facts.join(QStringLiteral(" · "));
    if (e.size > Event::MaxText)
        text += QLatin1Char('\n') + tr("(only the first %1 bytes are kept)").arg(Event::MaxText);
    text += QLatin1Char('\n') + EventText::text(e);
    m_detail->setPlainText(text);
}

void LogPanel::exportWithDialog()
{
    const QString suggested = QDir::home().filePath(
        QStringLiteral("pushconsole-log-%1.csv")
            .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    QString filter;
    const QString csv = tr("CSV (*.csv)");
    const QString jsonl = tr("JSON lines (*.jsonl)");
    QString fileName = QFileDialog::getSaveFileName(
        this, tr("Export log"), suggested, csv + QStringLiteral(";;") + jsonl, &filter);
    if (fileName.isEmpty())
        return;
    // The filter chosen decides when the name has no suffix of its own.
    if (QFileInfo(fileName).suffix().isEmpty())
        fileName += filter == jsonl ? QStringLiteral(".jsonl") : QStringLiteral(".csv");
    else if (filter == jsonl && fileName.endsWith(QLatin1String(".csv")))
        fileName = fileName.chopped(4) + QStringLiteral(".jsonl");
    exportTo(fileName);
}

int LogPanel::exportTo(const QString &fileName)
{
    QSaveFile file(fileName);
    int rows = -1;
    if (file.open(QIODevice::WriteOnly)) {
        rows = LogExporter::write(&file, m_proxy, LogExporter::formatForFileName(fileName));
        if (rows < 0 || !file.commit())
            rows = -1;
    }
    if (rows < 0) {
        QMessageBox::warning(this, tr("Export log"),
            tr("Could not write %1: %2")
                .arg(QDir::toNativeSeparators(fileName), file.errorString()));
        return -1;
    }
    Q_EMIT statusMessage(
        tr("Exported to %1 (events: %2)").arg(QDir::toNativeSeparators(fileName)).arg(rows));
    return rows;
}
