package io.dmtree.core.lock;

import io.dmtree.core.cn.CnThreads;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;

/** What a lock client may use on its compute node. */
public interface LockContext {
    /** This compute node's id, {@code 0 .. computeNodeCount()-1}. */
    int computeNode();

    /** Upper bound of compute node ids in the cluster. */
    int computeNodeCount();

    Verbs verbs();

    /** CN-to-CN messaging; designs that poll the MN need not use it. */
    CnMessaging messaging();

    /** Dense ids of this compute node's threads. */
    CnThreads threads();
}
