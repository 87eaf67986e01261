package io.dmtree.cn.messaging;

import java.util.Optional;

/** Where compute nodes' messaging endpoints are listed (memory node 0's directory). */
@FunctionalInterface
public interface PeerDirectory {
    /** The endpoint of compute node {@code cn}, waiting up to {@code waitMillis} for it to register. */
    Optional<String> lookup(int cn, int waitMillis);
}
