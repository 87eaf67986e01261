package io.dmtree.lock.modular;

import io.dmtree.core.lock.InProcessMemberLiveness;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.lock.recovery.WaitPolicy;
import io.dmtree.lock.recovery.WaitWatch;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.local.LocalVerbs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.dmtree.lock.modular.ModularLockLayout.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The waiter selection of an exclusive release when a departed compute node's request, which never
 * wrote its entry, is next in the queue, with the queue states a concurrent recovery leaves behind.
 * Compute node 1 releases at position 10; compute node 2 departed after its FAA at 11 (shared, no
 * entry); compute node 0, live, waits shared at 12 with its entry written.
 */
class MnLockQueueSelectionTest {
    private static final int SLOTS = 16;
    private static final int H = 10;
    private static final long WORD_BEFORE = word(H, FIELD_SHARED, FIELD_EXCLUSIVE, FIELD_SHARED);
    private static final long CN0_ENTRY = entry(H + 2, 0, 3, false);

    private OffHeapRegion region;
    private LocalVerbs verbs;
    private InProcessMemberLiveness liveness;
    private MnLockQueue queue;
    private MnLockQueue.Scratch scratch;
    private final long lock = GlobalAddress.of(0, 64);
    /** Daemon: a selection that never ends (the bug this test catches) must not keep the JVM alive. */
    private final ExecutorService releaser = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "releaser");
        t.setDaemon(true);
        return t;
    });

    @BeforeEach
    void setUp() {
        region = new OffHeapRegion(4096);
        verbs = LocalVerbs.overRegions(List.of(region));
        liveness = new InProcessMemberLiveness(3);
        liveness.depart(2);
        queue = new MnLockQueue(verbs, SLOTS, 1, liveness);
        scratch = queue.newScratch(new WaitWatch(liveness, 1, new WaitPolicy(100_000, 1_000_000)));
    }

    @AfterEach
    void tearDown() {
        releaser.shutdownNow();
        region.close();
    }

    /** What the release batch read: the word after its FAA, and the ring with compute node 0's entry. */
    private void releaseBatchRead() {
        putWord(word(H + 1, FIELD_SHARED, FIELD_NONE, FIELD_SHARED));
        putEntry(H + 2, CN0_ENTRY);
        scratch.ring.putLong(((H + 2) & (SLOTS - 1)) * ENTRY_BYTES, CN0_ENTRY, java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    private void putWord(long w) {
        region.putLongVolatile(GlobalAddress.offset(lock), w);
    }

    private void putEntry(int position, long e) {
        region.putLongVolatile(GlobalAddress.offset(lock) + entryOffset(position, SLOTS), e);
    }

    private WaiterSelection select() throws Exception {
        Future<WaiterSelection> f = releaser.submit(() -> queue.select(lock, LockMode.EXCLUSIVE, WORD_BEFORE, 1, scratch));
        try {
            return f.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            fail("the release's selection still waits for position " + (H + 1) + " after 20 s");
            return null;
        }
    }

    @Test
    void theDepartedSharedRequestIsPassedAndTheLiveWaiterBehindItGranted() throws Exception {
        releaseBatchRead();
        WaiterSelection sel = select();
        assertEquals(1, sel.count(), "compute node 0's shared request is granted");
        assertEquals(H + 2, sel.position(0));
        assertEquals(CN0_ENTRY, sel.entry(0));
    }

    /**
     * Recovery released the departed request first and granted compute node 0, which held and
     * released, clearing its entry: the releaser's verdict finds a live member without an entry,
     * and before the head check it waited for that entry forever.
     */
    @Test
    void aQueueThatMovedOnWithoutThisReleaseEndsTheSelection() throws Exception {
        releaseBatchRead();
        putWord(word(H + 3));
        putEntry(H + 2, 0);
        WaiterSelection sel = select();
        assertEquals(0, sel.count(), "nothing is left to grant");
    }
}
