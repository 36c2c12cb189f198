#include "MessageBanner.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

MessageBanner::MessageBanner(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("banner"));
    auto *frame = new QFrame(this);
    frame->setObjectName(QStringLiteral("bannerFrame"));
    frame->setStyleSheet(QStringLiteral(
        "#bannerFrame { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }"
        "#bannerFrame QLabel { color: #7f1d1d; }"));
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(8, 6, 8, 0);
    outer->addWidget(frame);

    auto *icon = new QLabel(frame);
    icon->setPixmap(QIcon(QStringLiteral(":/icons/warning.svg")).pixmap(22, 22));
    m_text = new QLabel(frame);
    m_text->setObjectName(QStringLiteral("bannerText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *settings = m_settings = new QPushButton(tr("Settings…"), frame);
    settings->setObjectName(QStringLiteral("bannerSettings"));
    auto *retry = m_retry = new QPushButton(tr("Retry"), frame);
    retry->setObjectName(QStringLiteral("bannerRetry"));
    auto *close = new QToolButton(frame);
    close->setText(QStringLiteral("✕"));
    close->setToolTip(tr("Dismiss"));
    close->setAutoRaise(true);
    connect(settings, &QPushButton::clicked, this, &MessageBanner::settingsRequested);
    connect(retry, &QPushButton::clicked, this, &MessageBanner::retryRequested);
    connect(close, &QToolButton::clicked, this, &QWidget::hide);

    auto *layout = new QHBoxLayout(frame);
    layout->setContentsMargins(10, 6, 6, 6);
    layout->addWidget(icon, 0, Qt::AlignTop);
    layout->addWidget(m_text, 1);
    layout->addWidget(settings);
    layout->addWidget(retry);
    layout->addWidget(close, 0, Qt::AlignTop);
    hide();
}

void MessageBanner::showError(const QString &text)
{
    m_text->setText(text);
    show();
}

void MessageBanner::setActionsShown(bool retry, bool settings)
{
    m_retry->setVisible(retry);
    m_settings->setVisible(settings);
}

QString MessageBanner::text() const
{
    return isHidden() ? QString() : m_text->text();
}
