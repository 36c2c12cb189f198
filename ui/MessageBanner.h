#pragma once

#include <QWidget>

class QLabel;
class QPushButton;

// A bar across the top of the window for what the operator must act on,
// such as a port that cannot be opened; it stays until dismissed or fixed,
// unlike a status bar message.
class MessageBanner final : public QWidget
{
    Q_OBJECT
public:
    explicit MessageBanner(QWidget *parent = nullptr);

    void showError(const QString &text);
    QString text() const;
    // The buttons for what the window can offer (a remote gateway's
    // listeners and settings are not the console's to change).
    void setActionsShown(bool retry, bool settings);

Q_SIGNALS:
    void retryRequested();
    void settingsRequested();

private:
    QLabel *m_text;
    QPushButton *m_retry;
    QPushButton *m_settings;
};
