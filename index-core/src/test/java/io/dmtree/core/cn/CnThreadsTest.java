package io.dmtree.core.cn;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.*;

class CnThreadsTest {
    @Test
    void liveThreadsGetDistinctIdsAndEndedThreadsGiveThemBack() throws Exception {
        CnThreads threads = new CnThreads(4);
        int mine = threads.current();
        assertEquals(mine, threads.current(), "an id is kept for life");
        // many more short-lived threads than the capacity, one after another
        for (int i = 0; i < 50; i++) {
            Thread t = new Thread(threads::current);
            t.start();
            t.join();
        }
        // three more live at once fit beside this one; a fourth does not
        CountDownLatch hold = new CountDownLatch(1);
        Set<Integer> ids = new HashSet<>();
        ids.add(mine);
        List<Thread> live = new ArrayList<>();
        List<Integer> got = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CountDownLatch started = new CountDownLatch(1);
            Thread t = new Thread(() -> {
                synchronized (got) {
                    got.add(threads.current());
                }
                started.countDown();
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            started.await();
            live.add(t);
        }
        ids.addAll(got);
        assertEquals(4, ids.size(), "live threads have distinct ids: " + ids);
        java.util.concurrent.atomic.AtomicReference<Throwable> refused = new java.util.concurrent.atomic.AtomicReference<>();
        Thread extra = new Thread(() -> {
            try {
                threads.current();
            } catch (Throwable e) {
                refused.set(e);
            }
        });
        extra.start();
        extra.join();
        assertTrue(refused.get() instanceof IllegalStateException, "a fifth live thread is refused: " + refused.get());
        hold.countDown();
        for (Thread t : live) {
            t.join();
        }
        int[] afterId = {-1};
        Thread after = new Thread(() -> afterId[0] = threads.current());
        after.start();
        after.join();
        assertTrue(afterId[0] >= 0 && afterId[0] < 4, "ended threads gave their ids back");
    }
}
