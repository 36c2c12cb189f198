#pragma once

#include <QtGlobal>

// The hook an object embeds once per list it can be on. Keeping objects in
// order of a timestamp this way makes "who has expired" a look at the front
// and "renew" an unlink plus append, both O(1), with no allocation.
template<typename T>
struct ListHook
{
    ListHook *prev = nullptr;
    ListHook *next = nullptr;
    T *owner = nullptr;
    bool isLinked() const { return next != nullptr; }
};

template<typename T>
class IntrusiveList final
{
public:
    IntrusiveList() { m_root.prev = m_root.next = &m_root; }
    IntrusiveList(const IntrusiveList &) = delete;
    IntrusiveList &operator=(const IntrusiveList &) = delete;

    bool isEmpty() const { return m_root.next == &m_root; }
    int size() const { return m_size; }
    T *front() const { return isEmpty() ? nullptr : m_root.next->owner; }
    // For a walk that steps from hook to hook: the end is the root, whose
    // owner is nullptr.
    ListHook<T> *frontHook() { return m_root.next; }

    void pushBack(ListHook<T> &hook, T *owner)
    {
        Q_ASSERT(!hook.isLinked());
        hook.owner = owner;
        hook.prev = m_root.prev;
        hook.next = &m_root;
        m_root.prev->next = &hook;
        m_root.prev = &hook;
        ++m_size;
    }
    void remove(ListHook<T> &hook)
    {
        if (!hook.isLinked())
            return;
        hook.prev->next = hook.next;
        hook.next->prev = hook.prev;
        hook.prev = hook.next = nullptr;
        --m_size;
    }
    void moveToBack(ListHook<T> &hook, T *owner)
    {
        remove(hook);
        pushBack(hook, owner);
    }

private:
    ListHook<T> m_root;
    int m_size = 0;
};
