package io.dmtree.cn.carrier;

import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;

import java.util.function.Function;
import java.util.function.Supplier;

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

    /** What a carrier does when a memory node's control connection reports it gone. */
    @FunctionalInterface
    interface LossHandler {
        LossHandler NONE = (mn, reason) -> {
        };

        void memoryNodeLost(int mn, String reason);
    }

    /**
     * The link of connected {@code verbs} and the messaging endpoint {@code startMessaging} makes;
     * when that fails, the verbs are closed before the failure propagates, so nothing stays open.
     * Closing the link closes the endpoint, then the verbs.
     */
    static <M extends CnMessaging> CarrierLink open(Verbs verbs, Supplier<M> startMessaging, Function<M, String> endpoint,
                                                    LossHandler onLoss) {
        M messaging;
        try {
            messaging = startMessaging.get();
        } catch (RuntimeException e) {
            verbs.close();
            throw e;
        }
        String address = endpoint.apply(messaging);
        return new CarrierLink() {
            @Override
            public Verbs verbs() {
                return verbs;
            }

            @Override
            public CnMessaging messaging() {
                return messaging;
            }

            @Override
            public String endpoint() {
                return address;
            }

            @Override
            public void memoryNodeLost(int mn, String reason) {
                onLoss.memoryNodeLost(mn, reason);
            }

            @Override
            public void close() {
                messaging.close();
                verbs.close();
            }
        };
    }
}
