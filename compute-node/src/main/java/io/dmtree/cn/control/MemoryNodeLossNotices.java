package io.dmtree.cn.control;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Who hears that a memory node of a cluster was lost: each listener hears the first loss once,
 * whether it subscribed before or after it (so a loss between joining and subscribing is not
 * missed). Listeners run outside the lock, on the thread that reports the loss or subscribes.
 */
final class MemoryNodeLossNotices {
    private final List<Consumer<String>> listeners = new ArrayList<>();
    private String lost;

    void listen(Consumer<String> listener) {
        String reason;
        synchronized (this) {
            reason = lost;
            if (reason == null) {
                listeners.add(listener);
                return;
            }
        }
        listener.accept(reason);
    }

    /** The first loss reported, or null while none was. */
    synchronized String lost() {
        return lost;
    }

    void lost(String reason) {
        List<Consumer<String>> toTell;
        synchronized (this) {
            if (lost != null) {
                return;
            }
            lost = reason;
            toTell = new ArrayList<>(listeners);
            listeners.clear();
        }
        toTell.forEach(l -> l.accept(reason));
    }
}
