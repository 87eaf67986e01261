package io.dmtree.cn.carrier;

import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;

/**
 * One compute node's connection through a carrier: its verbs on every memory node (uncounted; the
 * cluster client counts them), its messaging endpoint and the address other compute nodes find
 * it by. {@link #close()} closes both.
 */
public interface CarrierLink extends AutoCloseable {
    Verbs verbs();

    CnMessaging messaging();

    /** This compute node's messaging endpoint as registered in the directory ({@code tcp:HOST:PORT}, ...). */
    String endpoint();

    /**
     * Memory node {@code mn}'s control connection reported it gone: verbs to it must fail from
     * now on, saying {@code reason}, instead of waiting or working on orphaned memory. Carriers whose
     * connections break by themselves do nothing.
     */
    default void memoryNodeLost(int mn, String reason) {
    }

    @Override
    void close();
}
