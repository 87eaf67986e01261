package io.dmtree.lock.modular;

import io.dmtree.core.lock.LockMode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The waiter manager of one compute node's cohort on one lock: a FIFO of local threads waiting,
 * guarded by the cohort mutex. Selection takes the head waiter and, when it is shared, every
 * consecutive shared waiter behind it, within the handover budget; an aborted grant puts the
 * selected waiters back at the head in their order.
 */
final class CohortWaiterManager {
    private final ArrayDeque<LocalWaiter> queue = new ArrayDeque<>();

    void enqueue(LocalWaiter w) {
        queue.addLast(w);
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    LocalWaiter poll() {
        return queue.pollFirst();
    }

    /**
     * Removes and returns the waiters to grant: none when the head cannot be granted under a
     * tenure whose MN mode is {@code mnExclusive}, or when {@code budget} is 0.
     */
    List<LocalWaiter> select(boolean mnExclusive, int budget) {
        LocalWaiter head = queue.peekFirst();
        if (head == null || budget <= 0 || (!mnExclusive && head.mode == LockMode.EXCLUSIVE)) {
            return List.of();
        }
        List<LocalWaiter> sel = new ArrayList<>(2);
        sel.add(queue.pollFirst());
        if (head.mode == LockMode.SHARED) {
            while (sel.size() < budget && !queue.isEmpty() && queue.peekFirst().mode == LockMode.SHARED) {
                sel.add(queue.pollFirst());
            }
        }
        return sel;
    }

    /** Puts selected waiters back at the head, in their order. */
    void restore(List<LocalWaiter> selected) {
        for (int i = selected.size() - 1; i >= 0; i--) {
            queue.addFirst(selected.get(i));
        }
    }
}
