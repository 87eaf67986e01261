package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.lock.recovery.WaitPolicy;
import io.dmtree.lock.recovery.WaitWatch;

import java.util.concurrent.locks.LockSupport;

/**
 * The bounded side of a CAS lock's retry loop, one per thread: each failed CAS reports the word it
 * found; the wait consults membership at the policy's bound (throwing if this node departed), and
 * while the word stays held by a departed compute node it parks between tries instead of hammering
 * the memory node, until recovery frees the word.
 */
final class OwnerWordWait {
    private final WaitWatch watch;
    private final MemberLiveness liveness;
    private long departedOwnerWord;

    OwnerWordWait(LockContext context, WaitPolicy policy) {
        this.liveness = context.liveness();
        this.watch = new WaitWatch(liveness, context.computeNode(), policy);
    }

    void begin() {
        watch.begin();
        departedOwnerWord = CasLockWord.FREE;
    }

    /** One failed try that found {@code word}; returns after pausing as the situation needs. */
    void failed(long word, String doing) {
        if (watch.poll(doing) == WaitWatch.LOOK && !liveness.isMember(CasLockWord.computeNode(word))) {
            departedOwnerWord = word;
        }
        if (word == departedOwnerWord) {
            LockSupport.parkNanos(this, watch.parkNanos()); // recovery will free it; no point in polling fast
        }
    }
}
