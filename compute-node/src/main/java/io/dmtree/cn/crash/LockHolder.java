package io.dmtree.cn.crash;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A live compute node's thread that takes one lock exclusively and holds it until told to
 * release, so that another compute node queues behind it (the lock client's rule: the thread that
 * acquires releases). Every wait on it is bounded by the caller.
 */
final class LockHolder {
    private final LockClient client;
    private final long lock;
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final Thread thread;
    private volatile Throwable failure;

    LockHolder(LockClient client, long lock, String name) {
        this.client = client;
        this.lock = lock;
        this.thread = new Thread(this::hold, name);
        thread.setDaemon(true);
    }

    private void hold() {
        boolean acquired = false;
        try {
            client.acquire(lock, LockMode.EXCLUSIVE);
            acquired = true;
            held.countDown();
            release.await();
        } catch (Throwable e) {
            failure = e;
        } finally {
            if (acquired) {
                try {
                    client.release(lock, LockMode.EXCLUSIVE, null);
                } catch (Throwable e) {
                    failure = e;
                }
            }
            held.countDown();
        }
    }

    /** Starts taking the lock; null once held within {@code millis}, else why not. */
    String start(long millis) throws InterruptedException {
        thread.start();
        if (!held.await(millis, TimeUnit.MILLISECONDS)) {
            return "a live compute node could not take lock " + GlobalAddress.toString(lock) + " within " + millis + " ms";
        }
        return failure == null ? null : "a live compute node failed to take lock " + GlobalAddress.toString(lock) + ": " + failure;
    }

    /** Lets the holder release (idempotent). */
    void release() {
        release.countDown();
    }

    /** Waits for the release to return; null when it did within {@code millis}, else why not. */
    String awaitReleased(long millis) throws InterruptedException {
        release();
        thread.join(millis);
        if (thread.isAlive()) {
            return "a live compute node's release of lock " + GlobalAddress.toString(lock) + " did not return within "
                    + millis + " ms";
        }
        return failure == null ? null : "a live compute node's hold of lock " + GlobalAddress.toString(lock) + " failed: " + failure;
    }

    boolean alive() {
        return thread.isAlive();
    }
}
