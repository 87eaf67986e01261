package io.dmtree.workloads.run;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker that fails while the others are parked in waits nothing will end (as when it held a lock
 * they queue on): the phase throws the first failure within the stop grace, naming the abandoned
 * workers and where they wait; workers that stop at their next report are not abandoned; a spent
 * crew refuses further phases and closes without waiting for its stuck threads.
 */
class WorkerCrewTest {
    /** Parks forever, ignoring interrupts, like a lock waiter whose holder will never release. */
    private static void parkForever(CountDownLatch release) {
        while (release.getCount() > 0) {
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void aFailureWhileOthersAreParkedForeverEndsThePhaseWithinTheGrace() {
        CountDownLatch release = new CountDownLatch(1);
        WorkerCrew crew = new WorkerCrew(4, "crew-test", 300);
        try {
            long t0 = System.nanoTime();
            IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(
                    IllegalStateException.class, () -> crew.runPhase((worker, tally) -> {
                        if (worker == 0) {
                            Thread.sleep(50);
                            throw new IllegalStateException("memory node 0 is gone");
                        }
                        parkForever(release);
                    }, done -> { })));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("phase ended " + ms + " ms after its start: " + e.getMessage());
            assertTrue(e.getMessage().startsWith("memory node 0 is gone; 3 of 4 workers were still busy 300 ms after that"
                    + " and were abandoned"), e.getMessage());
            assertTrue(e.getMessage().contains("worker 1 in WorkerCrewTest.parkForever"), e.getMessage());
            assertTrue(e.getMessage().contains("worker 3 in"), e.getMessage());
            IllegalStateException again = assertThrows(IllegalStateException.class,
                    () -> crew.runPhase((worker, tally) -> { }, done -> { }));
            assertTrue(again.getMessage().contains("abandoned"), again.getMessage());
            assertTimeoutPreemptively(Duration.ofSeconds(5), crew::close);
        } finally {
            release.countDown();
        }
    }

    @Test
    void workersThatStopAtTheirNextReportAreNotAbandoned() {
        AtomicInteger stopped = new AtomicInteger();
        try (WorkerCrew crew = new WorkerCrew(3, "crew-test", 5_000)) {
            IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(
                    IllegalStateException.class, () -> crew.runPhase((worker, tally) -> {
                        if (worker == 2) {
                            throw new IllegalStateException("bad key");
                        }
                        for (long i = 0; ; i++) {
                            if (!tally.report(i)) {
                                stopped.incrementAndGet();
                                return;
                            }
                            Thread.onSpinWait();
                        }
                    }, done -> { })));
            assertEquals("bad key", e.getMessage());
            assertEquals(2, stopped.get());
            long nanos = crew.runPhase((worker, tally) -> tally.report(1), done -> { });
            assertTrue(nanos >= 0);
        }
    }

    @Test
    void aPhaseWithoutFailureIsNotCutShort() {
        try (WorkerCrew crew = new WorkerCrew(2, "crew-test", 1)) {
            long nanos = crew.runPhase((worker, tally) -> Thread.sleep(200), done -> { });
            assertTrue(nanos >= 150_000_000L, "ran " + nanos + " ns");
        }
    }
}
