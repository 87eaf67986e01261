package io.dmtree.lock;

import io.dmtree.core.lock.LapsedMemberException;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.lock.modular.ModularLockLayout;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** Single situations around a departed compute node, one at a time, each bounded in time. */
class DepartedMemberTest {
    static List<String> designs() {
        return LockDesigns.names();
    }

    /**
     * A waiter's compute node stops after its FAA and before its entry WRITE. The live holder's
     * release gives up on that entry once the node has departed and returns (with a shared
     * departed waiter it even grants the live waiter behind it); recovery then lets the live
     * waiter in.
     */
    @ParameterizedTest(name = "{0}: departed {1} waiter without an entry")
    @CsvSource({"modular,EXCLUSIVE", "modular,SHARED", "modular-mn-grant,EXCLUSIVE", "modular-mn-grant,SHARED"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void releaseGivesUpOnADepartedWaitersEntry(String name, LockMode victimMode) throws Exception {
        try (LockTestCluster c = new LockTestCluster(LockDesigns.byName(name), 1, 3, 4)) {
            long lock = c.lock(0);
            c.client(0).acquire(lock, LockMode.EXCLUSIVE);
            c.fenceableVerbs.get(2).crashAfter(1, () -> { }); // the FAA lands, the entry WRITE is refused
            Thread victim = new Thread(() -> {
                try {
                    c.client(2).acquire(lock, victimMode);
                } catch (RuntimeException expected) {
                    // its verbs are refused from the WRITE on
                }
            });
            victim.start();
            victim.join(10_000);
            assertFalse(victim.isAlive(), "the victim's acquire did not end at its refused WRITE");
            assertEquals(ModularLockLayout.fieldOf(victimMode == LockMode.EXCLUSIVE),
                    ModularLockLayout.field(c.peek(lock), 2), "the victim's FAA landed");
            CountDownLatch granted = new CountDownLatch(1);
            LockMode liveMode = victimMode; // behind a shared departed waiter, a shared live one
            Thread live = new Thread(() -> {
                c.client(1).acquire(lock, liveMode);
                granted.countDown();
                c.client(1).release(lock, liveMode, null);
            });
            live.setDaemon(true);
            live.start();
            while (ModularLockLayout.field(c.peek(lock), 1) == 0) {
                Thread.sleep(1);
            }
            Thread.sleep(20); // its entry WRITE lands
            c.fence(2);
            c.depart(2);
            AtomicReference<Throwable> released = new AtomicReference<>();
            Thread releaser = new Thread(() -> {
                try {
                    c.client(0).release(lock, LockMode.EXCLUSIVE, null);
                } catch (Throwable e) {
                    released.set(e);
                }
            });
            releaser.start();
            releaser.join(10_000);
            assertFalse(releaser.isAlive(), "release kept waiting for the entry of a departed waiter");
            assertNull(released.get(), "release failed because a peer departed");
            if (victimMode == LockMode.SHARED) {
                assertTrue(granted.await(10, TimeUnit.SECONDS), "the shared waiter behind the departed one was not granted");
            }
            RecoveryReport r = c.recover(0, 2);
            assertEquals(1, r.holdsReleased() + r.waitsRemoved(), r.toString());
            assertTrue(granted.await(10, TimeUnit.SECONDS), "the live waiter was never granted after recovery");
            live.join(10_000);
            assertEquals(0, ModularLockLayout.size(c.peek(lock)), ModularLockLayout.describe(c.peek(lock)));
        }
    }

    /** Recovery refuses a member that has not departed: it would free locks a live node holds. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("designs")
    void recoveryRefusesALiveMember(String name) {
        try (LockTestCluster c = new LockTestCluster(LockDesigns.byName(name), 1, 2, 4)) {
            c.client(1).acquire(c.lock(0), LockMode.EXCLUSIVE);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.recover(0, 1));
            assertTrue(e.getMessage().contains("still a member"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> c.recover(0, 7));
            c.client(1).release(c.lock(0), LockMode.EXCLUSIVE, null);
        }
    }

    /** A departed node's own waiting thread learns it: its acquire ends with a clear exception. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("designs")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aDepartedNodesWaiterEndsWithAClearException(String name) throws Exception {
        try (LockTestCluster c = new LockTestCluster(LockDesigns.byName(name), 1, 2, 4)) {
            long lock = c.lock(0);
            c.client(0).acquire(lock, LockMode.EXCLUSIVE);
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            long requests = c.fenceableVerbs.get(1).requests();
            Thread w = new Thread(() -> {
                try {
                    c.client(1).acquire(lock, LockMode.EXCLUSIVE);
                    outcome.set(new AssertionError("a departed node was granted"));
                } catch (Throwable e) {
                    outcome.set(e);
                }
            });
            w.start();
            while (c.fenceableVerbs.get(1).requests() == requests) {
                Thread.sleep(1);
            }
            Thread.sleep(20);
            c.fence(1);
            c.depart(1);
            w.join(10_000);
            assertFalse(w.isAlive(), name + ": the departed node's waiter never ended");
            Throwable e = outcome.get();
            assertTrue(e instanceof LapsedMemberException || e instanceof RemoteAccessException
                    || e instanceof io.dmtree.core.memory.FencedException,
                    name + ": expected a clear exception, got " + e);
            c.client(0).release(lock, LockMode.EXCLUSIVE, null); // its grant, if any, goes to the departed node
            c.recover(0, 1); // from a thread that holds no lock of the design
            c.client(0).acquire(lock, LockMode.EXCLUSIVE); // the lock is whole again
            c.client(0).release(lock, LockMode.EXCLUSIVE, null);
        }
    }

    /**
     * Drain recovery: the coordinating member stops partway through its reset, while a live
     * member holds a lock. The coordinator's recovery ends with an exception and sends no
     * RESUME, so the live member stays frozen (its holder's lock may have been reset and is not
     * reinstated yet; a thaw now could let a second holder in). The recovery of the departed
     * coordinator (by the live member, with a drain of its own) then ends that freeze too: the
     * member is not wedged, and the hold survived both resets.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"dslr", "rdma-mcs", "alock"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aCoordinatorLostInItsResetDoesNotWedgeTheDrain(String name) throws Exception {
        try (LockTestCluster c = new LockTestCluster(LockDesigns.byName(name), 1, 3, 4)) {
            long held = c.lock(0);
            long other = c.lock(1);
            c.fence(2);
            c.depart(2); // the node whose recovery CN 0 coordinates
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch letGo = new CountDownLatch(1);
            Thread holder = new Thread(() -> {
                try {
                    c.client(1).acquire(held, LockMode.EXCLUSIVE);
                    holding.countDown();
                    letGo.await();
                    c.client(1).release(held, LockMode.EXCLUSIVE, null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            holder.setDaemon(true);
            holder.start();
            assertTrue(holding.await(10, TimeUnit.SECONDS));
            c.fenceableVerbs.get(0).crashAfter(1, () -> { }); // the coordinator stops within its reset
            assertThrows(RuntimeException.class, () -> c.recover(0, 2), "a reset whose verbs fail must not succeed");

            CountDownLatch gotOther = new CountDownLatch(1);
            Thread acquirer = new Thread(() -> {
                c.client(1).acquire(other, LockMode.EXCLUSIVE);
                gotOther.countDown();
                c.client(1).release(other, LockMode.EXCLUSIVE, null);
            });
            acquirer.setDaemon(true);
            acquirer.start();
            assertFalse(gotOther.await(200, TimeUnit.MILLISECONDS), "CN 1 thawed although the reset may have begun");

            c.fence(0);
            c.depart(0);
            RecoveryReport r = c.recover(1, 0); // the lost coordinator's own recovery drains again
            assertNotNull(r);
            assertTrue(gotOther.await(10, TimeUnit.SECONDS), "CN 1 stayed frozen after its coordinator departed");

            CountDownLatch gotHeld = new CountDownLatch(1);
            Thread second = new Thread(() -> {
                c.client(1).acquire(held, LockMode.EXCLUSIVE);
                gotHeld.countDown();
                c.client(1).release(held, LockMode.EXCLUSIVE, null);
            });
            second.setDaemon(true);
            second.start();
            assertFalse(gotHeld.await(200, TimeUnit.MILLISECONDS), "a second holder got in beside the reinstated hold");
            letGo.countDown();
            assertTrue(gotHeld.await(10, TimeUnit.SECONDS), "the lock was not passed on after the reinstated hold");
            holder.join(10_000);
        }
    }
}
