package io.dmtree.core.wire;

/**
 * A snapshot of a {@link FrameServer}'s counters and its own accounting of memory and threads.
 *
 * @param framesServed            request frames handled (replied to, or delivered when one-way)
 * @param errorReplies            error replies sent (refused frames, limits)
 * @param internalErrors          connections dropped after an unexpected exception: zero unless there is a bug
 * @param connectionsAccepted     connections accepted, refused ones included
 * @param openConnections         connections open now
 * @param refusedOverLimit        connections refused because {@link ConnectionLimits#maxConnections()} were open
 * @param helloFramesTooLarge     connections closed for a frame larger than the HELLO buffer before HELLO
 * @param helloTimeouts           connections closed for not completing HELLO in time
 * @param idleTimeouts            connections closed for saying nothing within the idle timeout
 * @param framesTooLarge          connections closed for a frame beyond their service's limit after HELLO
 * @param budgetWaits             times a connection had to wait for the receive budget before growing its buffer
 * @param receiveBufferBytes      bytes of receive buffers held by open connections now
 * @param peakReceiveBufferBytes  the most receive-buffer bytes held at once
 * @param receiveBudgetBytes      the receive budget: most bytes held beyond session buffers
 * @param budgetReservedBytes     bytes of the budget reserved now
 * @param sendBufferBytes         bytes of reply buffers held by open connections now
 * @param eventLoopThreads        event-loop threads (they live as long as the server)
 * @param workerThreads           blocking-worker threads alive now
 * @param peakWorkerThreads       the most blocking-worker threads alive at once
 */
public record FrameServerStats(long framesServed, long errorReplies, long internalErrors, long connectionsAccepted,
                               int openConnections, long refusedOverLimit, long helloFramesTooLarge, long helloTimeouts,
                               long idleTimeouts, long framesTooLarge, long budgetWaits, long receiveBufferBytes,
                               long peakReceiveBufferBytes, long receiveBudgetBytes, long budgetReservedBytes,
                               long sendBufferBytes, int eventLoopThreads, int workerThreads, int peakWorkerThreads) {
    /** Threads the server runs now. */
    public int threads() {
        return eventLoopThreads + workerThreads;
    }

    @Override
    public String toString() {
        return "frames=" + framesServed + " errors=" + errorReplies + " internal-errors=" + internalErrors
                + " accepted=" + connectionsAccepted + " open=" + openConnections + " refused-over-limit=" + refusedOverLimit
                + " hello-too-large=" + helloFramesTooLarge + " hello-timeouts=" + helloTimeouts + " idle-timeouts=" + idleTimeouts
                + " frames-too-large=" + framesTooLarge + " budget-waits=" + budgetWaits
                + " receive-buffer-bytes=" + receiveBufferBytes + " peak-receive-buffer-bytes=" + peakReceiveBufferBytes
                + " budget-reserved=" + budgetReservedBytes + "/" + receiveBudgetBytes + " send-buffer-bytes=" + sendBufferBytes
                + " threads=" + eventLoopThreads + "+" + workerThreads + " (peak workers " + peakWorkerThreads + ")";
    }
}
