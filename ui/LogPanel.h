#pragma once

#include <QWidget>

class GatewaySource;
class LogFilterProxy;
class LogModel;
class QAction;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSplitter;
class QTableView;
class QToolButton;

// The message log: filter bar, the table and a pane with the whole text of
// the selected event. It follows new rows unless auto-scroll is paused.
class LogPanel final : public QWidget
{
    Q_OBJECT
public:
    LogPanel(GatewaySource *source, int capacity, QWidget *parent = nullptr);

    LogModel *model() const { return m_model; }
    LogFilterProxy *proxy() const { return m_proxy; }
    QTableView *view() const { return m_view; }
    QSplitter *splitter() const { return m_splitter; }
    QAction *pauseAction() const { return m_pause; }
    QAction *clearAction() const { return m_clear; }
    QAction *exportAction() const { return m_export; }
    void focusFilter();
    // Writes the visible rows; returns how many, or -1 (error shown to the user).
    int exportTo(const QString &fileName);

Q_SIGNALS:
    void statusMessage(const QString &text);

private:
    void exportWithDialog();
    void updateCount();
    void showDetail();
    void rowsInserted();

    LogModel *m_model;
    LogFilterProxy *m_proxy;
    QTableView *m_view;
    QPlainTextEdit *m_detail;
    QLineEdit *m_uidFilter;
    QLineEdit *m_textFilter;
    QLabel *m_count;
    QSplitter *m_splitter;
    QAction *m_pause;
    QAction *m_clear;
    QAction *m_export;
    bool m_scrollPending = false;
};
