#include "PushPanel.h"

#include "EventText.h"
#include "GatewaySource.h"
#include "OnlineModel.h"
#include "PushComposer.h"
#include "PushHistoryModel.h"
#include "PushTemplates.h"
#include "UidCompleter.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QVBoxLayout>

#include <memory>
#include <optional>

namespace {
const QString HistoryKey = QStringLiteral("push/history");
const QString Green = QStringLiteral("#1b803c");
const QString Orange = QStringLiteral("#b05a00");
const QString Red = QStringLiteral("#c62828");
const QString Blue = QStringLiteral("#1f5fbf");

QLabel *heading(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    return label;
}
} // namespace

PushPanel::PushPanel(GatewaySource *source, OnlineModel *online, QWidget *parent)
    : QWidget(parent)
    , m_source(source)
    , m_history(new PushHistoryModel(this))
{
    m_target = new QLineEdit(this);
    m_target->setObjectName(QStringLiteral("pushTarget"));
    m_target->setPlaceholderText(tr("uid, or several: 1001, 1002"));
    m_target->setToolTip(
        tr("One uid, or several separated by commas; completes from the online uids"));
    m_target->setClearButtonEnabled(true);
    new UidCompleter(online, m_target);

    m_broadcast = new QCheckBox(tr("Everyone (broadcast)"), this);
    m_broadcast->setObjectName(QStringLiteral("pushBroadcast"));
    connect(m_broadcast, &QCheckBox::toggled, m_target, &QWidget::setDisabled);
    connect(m_broadcast, &QCheckBox::toggled, this, &PushPanel::validate);

    m_templates = new QComboBox(this);
    m_templates->setObjectName(QStringLiteral("pushTemplates"));
    m_templates->addItem(tr("Insert a template…"));
    for (const PushTemplates::Template &t : PushTemplates::all())
        m_templates->addItem(t.name, t.payload);
    connect(m_templates, &QComboBox::activated, this, &PushPanel::loadTemplate);

    m_payload = new QPlainTextEdit(this);
    m_payload->setObjectName(QStringLiteral("pushPayload"));
    m_payload->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_payload->setTabChangesFocus(true);
    m_payload->setPlaceholderText(tr("A JSON object; its \"uid\" is set from the target."));
    m_payload->setMinimumHeight(fontMetrics().height() * 4);
    m_validateTimer.setSingleShot(true);
    m_validateTimer.setInterval(150);
    connect(&m_validateTimer, &QTimer::timeout, this, &PushPanel::validate);
    connect(m_payload, &QPlainTextEdit::textChanged, &m_validateTimer, qOverload<>(&QTimer::start));
    connect(m_target, &QLineEdit::textChanged, &m_validateTimer, qOverload<>(&QTimer::start));

    m_validation = new QLabel(this);
    m_validation->setObjectName(QStringLiteral("pushValidation"));
    m_validation->setWordWrap(true);

    m_send = new QPushButton(QIcon(QStringLiteral(":/icons/send.svg")), tr("Send"), this);
    m_send->setObjectName(QStringLiteral("pushSend"));
    m_send->setToolTip(tr("Push through the gateway's router, like the push port (Ctrl+Enter)"));
    connect(m_send, &QPushButton::clicked, this, [this] { send(); });
    for (const QKeySequence &keys :
        {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)}) {
        auto *shortcut = new QShortcut(keys, this);
        shortcut->setContext(Qt::WidgetWithChildrenShortcut);
        connect(shortcut, &QShortcut::activated, this, [this] { send(); });
    }

    m_result = new QLabel(this);
    m_result->setObjectName(QStringLiteral("pushResult"));
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_historyView = new QListView(this);
    m_historyView->setObjectName(QStringLiteral("pushHistory"));
    m_historyView->setModel(m_history);
    m_historyView->setUniformItemSizes(true);
    m_historyView->setTextElideMode(Qt::ElideRight);
    m_historyView->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_historyView->setAlternatingRowColors(true);
    connect(m_historyView, &QListView::activated, this, &PushPanel::loadHistoryEntry);
    connect(m_historyView, &QListView::clicked, this, &PushPanel::loadHistoryEntry);

    m_resend = new QPushButton(QIcon(QStringLiteral(":/icons/resend.svg")), tr("Send again"), this);
    m_resend->setObjectName(QStringLiteral("pushResend"));
    m_resend->setToolTip(tr("Send the selected recent push again, unchanged"));
    m_resend->setEnabled(false);
    connect(m_resend, &QPushButton::clicked, this, &PushPanel::resendSelected);
    connect(m_historyView->selectionModel(), &QItemSelectionModel::currentChanged, this,
        [this](const QModelIndex &current) { m_resend->setEnabled(current.isValid()); });

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(tr("To:"), m_target);
    form->addRow(QString(), m_broadcast);
    form->addRow(tr("Template:"), m_templates);

    auto *sendRow = new QHBoxLayout;
    sendRow->addWidget(m_result, 1);
    sendRow->addWidget(m_send, 0, Qt::AlignTop);

    auto *historyHeader = new QHBoxLayout;
    historyHeader->addWidget(heading(tr("Recent pushes"), this));
    historyHeader->addStretch(1);
    historyHeader->addWidget(m_resend);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(heading(tr("Push"), this));
    layout->addLayout(form);
    layout->addWidget(m_payload, 3);
    layout->addWidget(m_validation);
    layout->addLayout(sendRow);
    layout->addLayout(historyHeader);
    layout->addWidget(m_historyView, 1);
    m_historyView->setMinimumHeight(fontMetrics().height() * 3);

    m_history->fromVariant(QSettings().value(HistoryKey).toList());
    loadTemplate(1); // the seed's lock message: what this tool is first used for
    m_templates->setCurrentIndex(0);
}

void PushPanel::setTargets(const QStringList &uids)
{
    if (uids.isEmpty())
        return;
    m_broadcast->setChecked(false);
    m_target->setText(uids.join(QStringLiteral(", ")));
}

void PushPanel::setPayload(const QString &payload)
{
    m_payload->setPlainText(payload);
    validate();
}

QString PushPanel::resultText() const
{
    return m_result->text();
}

void PushPanel::loadTemplate(int index)
{
    if (index <= 0)
        return;
    setPayload(m_templates->itemData(index).toString());
    m_templates->setCurrentIndex(0);
    m_payload->setFocus();
}

void PushPanel::validate()
{
    m_validateTimer.stop();
    const PushComposer::Check c = PushComposer::check(m_payload->toPlainText());
    if (!c.error.isEmpty()) {
        m_validation->setText(c.error);
        m_validation->setStyleSheet(QStringLiteral("color: %1;").arg(Red));
        m_send->setEnabled(false);
        return;
    }
    QString note = tr("Valid JSON object.");
    const bool broadcast = m_broadcast->isChecked();
    const int targets = int(PushComposer::parseTargets(m_target->text()).size());
    if (broadcast)
        note += QLatin1Char(' ') + tr("It goes to every connected client.");
    else if (targets == 0 && c.hasUid)
        note += QLatin1Char(' ') + tr("No target: the payload's own \"uid\" decides.");
    else if (targets == 0)
        note += QLatin1Char(' ') + tr("Enter a target uid.");
    else if (c.hasUid)
        note += QLatin1Char(' ') + tr("Its \"uid\" is replaced by the target.");
    m_validation->setText(note);
    m_validation->setStyleSheet(QStringLiteral("color: %1;").arg(Green));
    m_send->setEnabled(broadcast || targets > 0 || c.hasUid);
}

PushResult PushPanel::send()
{
    const PushComposer::Result composed =
        PushComposer::compose(m_target->text(), m_broadcast->isChecked(), m_payload->toPlainText());
    if (!composed.isValid()) {
        showResult(composed.error, Red);
        PushResult r;
        r.status = PushStatus::Error;
        r.error = composed.error.toUtf8();
        return r;
    }
    PushHistoryModel::Entry entry;
    entry.targets = m_target->text().trimmed();
    entry.broadcast = m_broadcast->isChecked();
    entry.payload = m_payload->toPlainText();
    entry.time = QDateTime::currentMSecsSinceEpoch();
    // The answer may come before push() returns (most pushes in process)
    // or later (through Redis, or from a remote gateway).
    auto answer = std::make_shared<std::optional<PushResult>>();
    m_source->push(composed.line, this, [this, entry, answer](const PushResult &final) {
        *answer = final;
        showPushResult(final, entry);
    });
    if (answer->has_value())
        return **answer;
    const QString time = QTime::currentTime().toString(QStringLiteral("HH:mm:ss"));
    // In process only a push through the cluster waits; remotely every one does.
    showResult(m_source->location().isEmpty()
            ? tr("%1  sending: waiting for the cluster's answer…").arg(time)
            : tr("%1  sending: waiting for the gateway's answer…").arg(time),
        Blue);
    PushResult pending;
    pending.pending = true;
    return pending;
}

void PushPanel::showPushResult(const PushResult &r, PushHistoryModel::Entry entry)
{
    const QString time = QTime::currentTime().toString(QStringLiteral("HH:mm:ss"));
    QString text;
    switch (r.status) {
    case PushStatus::Ok:
        if (r.nodes > 0)
            text = tr("%1  ok: connections reached here: %2; published to other nodes: %3.")
                       .arg(time)
                       .arg(r.delivered)
                       .arg(r.nodes);
        else
            text = tr("%1  ok: connections reached: %2.").arg(time).arg(r.delivered);
        showResult(text, Green);
        break;
    case PushStatus::Fail:
        text = tr("%1  fail: no target is online.").arg(time);
        showResult(text, Orange);
        break;
    case PushStatus::Queued:
        // Not a failure: the uid gets it when it binds, on any node.
        if (r.stored > 1)
            text = tr("%1  queued: no target is online; stored for %2 uids, each delivered when "
                      "it binds.")
                       .arg(time)
                       .arg(r.stored);
        else
            text = tr("%1  queued: the uid is not online; stored and delivered when it binds.")
                       .arg(time);
        showResult(text, Blue);
        break;
    case PushStatus::Error:
        text = tr("%1  error: %2").arg(time, EventText::reason(QString::fromUtf8(r.error)));
        showResult(text, Red);
        break;
    }
    entry.result = text;
    entry.ok = r.status == PushStatus::Ok || r.status == PushStatus::Queued;
    m_history->add(entry);
    saveHistory();
}

void PushPanel::showResult(const QString &text, const QString &color)
{
    m_result->setText(text);
    m_result->setStyleSheet(QStringLiteral("color: %1; font-weight: bold;").arg(color));
}

void PushPanel::loadHistoryEntry(const QModelIndex &index)
{
    if (!index.isValid())
        return;
    const PushHistoryModel::Entry &e = m_history->entry(index.row());
    m_broadcast->setChecked(e.broadcast);
    m_target->setText(e.targets);
    setPayload(e.payload);
}

void PushPanel::resendSelected()
{
    const QModelIndex current = m_historyView->currentIndex();
    if (!current.isValid())
        return;
    loadHistoryEntry(current);
    send();
    m_historyView->setCurrentIndex(m_history->index(0));
}

void PushPanel::saveHistory() const
{
    QSettings().setValue(HistoryKey, m_history->toVariant());
}
