package io.dmtree.core.tree;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static org.junit.jupiter.api.Assertions.*;

/** Writer slots: one owner at a time under contention, fresh sequence numbers, clear misuse errors. */
class RedoSlotsTest {

    @Test
    void aSlotHasOneOwnerAtATimeAndItsSequenceNumbersNeverRepeat() throws Exception {
        RedoSlots slots = new RedoSlots(3);
        AtomicReferenceArray<Thread> owner = new AtomicReferenceArray<>(3);
        int[][] lastSeq = new int[3][2];
        List<Throwable> errors = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                int preferred = slots.preferredSlot();
                try {
                    for (int i = 0; i < 20_000 && System.nanoTime() < deadline; i++) {
                        int s = slots.claim(preferred);
                        if (!owner.compareAndSet(s, null, Thread.currentThread())) {
                            throw new AssertionError("slot " + s + " has two owners");
                        }
                        int cell = i & 1;
                        int seq = slots.nextSeq(s, cell);
                        if (seq != lastSeq[s][cell] + 1) { // plain array: published by the slot hand-over
                            throw new AssertionError("slot " + s + " cell " + cell + " sequence " + seq + " after " + lastSeq[s][cell]);
                        }
                        lastSeq[s][cell] = seq;
                        owner.set(s, null);
                        slots.release(s);
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
            th.setDaemon(true);
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(th.isAlive(), "a claimer hung");
        }
        assertEquals(List.of(), errors);
    }

    @Test
    void preferredSlotsAreDistinctForTheFirstThreadsAndMisuseIsRefused() {
        RedoSlots slots = new RedoSlots(4);
        assertEquals(List.of(0, 1, 2, 3, 0), List.of(slots.preferredSlot(), slots.preferredSlot(), slots.preferredSlot(),
                slots.preferredSlot(), slots.preferredSlot()));
        assertEquals(2, slots.claim(2));
        assertEquals(3, slots.claim(2), "a taken preferred slot yields the next free one");
        slots.release(2);
        assertThrows(IllegalStateException.class, () -> slots.release(2));
        assertThrows(IllegalArgumentException.class, () -> new RedoSlots(0));
        for (int i = 0; i < 5; i++) {
            slots.nextSeq(1, 0);
        }
        assertEquals(6, slots.nextSeq(1, 0));
        assertEquals(1, slots.nextSeq(1, 1), "each cell counts on its own");
    }
}
