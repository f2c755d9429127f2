/* ovnic: intrusive doubly linked list. */
#ifndef OVNIC_UTIL_LIST_H
#define OVNIC_UTIL_LIST_H 1

#include <stdbool.h>
#include <stddef.h>

#include "shared/util/util.h"

struct ovnic_list {
    struct ovnic_list *prev;
    struct ovnic_list *next;
};

#define OVNIC_LIST_INITIALIZER(LIST) \
    {                                \
        LIST, LIST                   \
    }

static inline void
ovnic_list_init(struct ovnic_list *list)
{
    list->prev = list->next = list;
}

static inline bool
ovnic_list_is_empty(const struct ovnic_list *list)
{
    return list->next == list;
}

/** Inserts 'elem' just before 'before'. */
static inline void
ovnic_list_insert(struct ovnic_list *before, struct ovnic_list *elem)
{
    elem->prev = before->prev;
    elem->next = before;
    before->prev->next = elem;
    before->prev = elem;
}

static inline void
ovnic_list_push_back(struct ovnic_list *list, struct ovnic_list *elem)
{
    ovnic_list_insert(list, elem);
}

static inline void
ovnic_list_push_front(struct ovnic_list *list, struct ovnic_list *elem)
{
    ovnic_list_insert(list->next, elem);
}

/** Removes 'elem' from its list and returns the element that followed it. */
static inline struct ovnic_list *
ovnic_list_remove(struct ovnic_list *elem)
{
    elem->prev->next = elem->next;
    elem->next->prev = elem->prev;
    struct ovnic_list *next = elem->next;
    elem->prev = elem->next = elem;
    return next;
}

static inline struct ovnic_list *
ovnic_list_pop_front(struct ovnic_list *list)
{
    struct ovnic_list *front = list->next;
    ovnic_list_remove(front);
    return front;
}

static inline size_t
ovnic_list_size(const struct ovnic_list *list)
{
    size_t n = 0;
    for (const struct ovnic_list *e = list->next; e != list; e = e->next) {
        n++;
    }
    return n;
}

#define LIST_FOR_EACH(ITER, MEMBER, LIST)                      \
    for (ITER = OBJECT_CONTAINING((LIST)->next, ITER, MEMBER); \
         &(ITER)->MEMBER != (LIST);                            \
         ITER = OBJECT_CONTAINING((ITER)->MEMBER.next, ITER, MEMBER))

#define LIST_FOR_EACH_SAFE(ITER, NEXT, MEMBER, LIST)                         \
    for (ITER = OBJECT_CONTAINING((LIST)->next, ITER, MEMBER);               \
         &(ITER)->MEMBER != (LIST) &&                                        \
         ((NEXT = OBJECT_CONTAINING((ITER)->MEMBER.next, ITER, MEMBER)), 1); \
         ITER = NEXT)

#endif /* OVNIC_UTIL_LIST_H */
