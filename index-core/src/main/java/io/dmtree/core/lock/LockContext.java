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

    /**
     * Which compute nodes are members. A wait that has heard nothing for a bound consults it: this
     * node's own departure ends the wait with a {@link LapsedMemberException}, another's lets the
     * design look again at what it waits for. By default everyone is a member forever.
     */
    default MemberLiveness liveness() {
        return MemberLiveness.EVERYONE_LIVE;
    }
}
