#include "AttachDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

namespace {
const QString Group = QStringLiteral("attach");
const QString Key = QStringLiteral("recent");

QWidget *withBrowse(QLineEdit *edit, const QString &title, QWidget *parent)
{
    auto *box = new QWidget(parent);
    auto *layout = new QHBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto *browse = new QPushButton(AttachDialog::tr("Browse…"), box);
    layout->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, edit, [edit, title] {
        const QString file = QFileDialog::getOpenFileName(edit->window(), title, edit->text());
        if (!file.isEmpty())
            edit->setText(file);
    });
    return box;
}
} // namespace

AttachDialog::AttachDialog(QWidget *parent)
    : QDialog(parent)
    , m_recent(recent())
{
    setObjectName(QStringLiteral("attachDialog"));
    setWindowTitle(tr("Attach to a gateway"));

    m_url = new QComboBox(this);
    m_url->setObjectName(QStringLiteral("attachUrl"));
    m_url->setEditable(true);
    m_url->setInsertPolicy(QComboBox::NoInsert);
    m_url->setMinimumContentsLength(36);
    m_url->lineEdit()->setPlaceholderText(QStringLiteral("https://gw.example.com:2121"));
    for (const Recent &r : std::as_const(m_recent))
        m_url->addItem(r.url);
    m_keyFile = new QLineEdit(this);
    m_keyFile->setObjectName(QStringLiteral("attachKeyFile"));
    m_keyFile->setPlaceholderText(tr("none: the gateway has no --http-api-key-file"));
    m_caFile = new QLineEdit(this);
    m_caFile->setObjectName(QStringLiteral("attachCaFile"));
    m_caFile->setPlaceholderText(tr("none: the system's CA certificates"));
    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("attachError"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_error->hide();

    auto *form = new QFormLayout;
    form->addRow(tr("Gateway &URL:"), m_url);
    form->addRow(tr("API &key file:"), withBrowse(m_keyFile, tr("API key file"), this));
    form->addRow(tr("&CA file (https):"), withBrowse(m_caFile, tr("CA certificates"), this));
    auto *hint = new QLabel(tr("The gateway's HTTP API, as in its --http-port and "
                               "--http-host. Only the key file's path is remembered, never the "
                               "key."),
        this);
    hint->setWordWrap(true);
    hint->setEnabled(false);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Attach"));
    connect(buttons, &QDialogButtonBox::accepted, this, &AttachDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &AttachDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(hint);
    layout->addWidget(m_error);
    layout->addWidget(buttons);

    connect(m_url, &QComboBox::activated, this, &AttachDialog::fillFromRecent);
    if (!m_recent.isEmpty())
        fillFromRecent(0);
}

void AttachDialog::fillFromRecent(int index)
{
    if (index < 0 || index >= m_recent.size())
        return;
    m_url->setEditText(m_recent.at(index).url);
    m_keyFile->setText(m_recent.at(index).keyFile);
    m_caFile->setText(m_recent.at(index).caFile);
}

QString AttachDialog::error() const
{
    return m_error->isVisible() || !m_error->text().isEmpty() ? m_error->text() : QString();
}

void AttachDialog::accept()
{
    AttachTarget target;
    QString error;
    if (!AttachTarget::load(m_url->currentText(), m_keyFile->text().trimmed(),
            m_caFile->text().trimmed(), &target, &error)) {
        m_error->setText(error);
        m_error->show();
        return;
    }
    m_error->clear();
    m_error->hide();
    remember(target);
    QDialog::accept();
    Q_EMIT attachRequested(target);
}

QList<AttachDialog::Recent> AttachDialog::recent()
{
    QList<Recent> out;
    QSettings s;
    s.beginGroup(Group);
    const int n = s.beginReadArray(Key);
    for (int i = 0; i < qMin(n, MaxRecent); ++i) {
        s.setArrayIndex(i);
        Recent r {s.value(QStringLiteral("url")).toString(),
            s.value(QStringLiteral("keyFile")).toString(),
            s.value(QStringLiteral("caFile")).toString()};
        if (!r.url.isEmpty())
            out.append(r);
    }
    s.endArray();
    return out;
}

void AttachDialog::remember(const AttachTarget &target)
{
    QList<Recent> list = recent();
    const Recent now {target.display(), target.keyFile, target.caFile};
    list.removeIf([&now](const Recent &r) { return r.url == now.url; });
    list.prepend(now);
    while (list.size() > MaxRecent)
        list.removeLast();
    QSettings s;
    s.beginGroup(Group);
    s.remove(Key);
    s.beginWriteArray(Key, int(list.size()));
    for (int i = 0; i < list.size(); ++i) {
        s.setArrayIndex(i);
        s.setValue(QStringLiteral("url"), list.at(i).url);
        s.setValue(QStringLiteral("keyFile"), list.at(i).keyFile);
        s.setValue(QStringLiteral("caFile"), list.at(i).caFile);
    }
    s.endArray();
}
