package io.dmtree.cn.history;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A compute node's acknowledged history, written as it happens to a text file that outlives the
 * process: every line goes to the file with one {@code write} system call before the call that
 * records it returns, so a process killed with SIGKILL (or stopped and never resumed) leaves every
 * line it wrote; nothing is buffered in the process. Times are {@link System#nanoTime()}, which
 * on Linux reads the host's monotonic clock, so histories of processes on one host (network
 * namespaces included) share a time line. The format is {@link HistoryFile}'s.
 *
 * <p>An operation is recorded twice: its invocation before its first verb, its response after
 * it returned. An invocation without a response (the process died, the call failed or was fenced)
 * is pending: it may have taken effect at any time after its invocation, or never. Thread-safe;
 * one log per process.
 */
public final class HistoryLog implements AutoCloseable {
    private final FileChannel file;
    private final int computeNode;
    private final ByteBuffer line = ByteBuffer.allocate(256);

    /** Creates (or truncates) {@code path} for compute node {@code computeNode} at {@code epoch}. */
    public HistoryLog(Path path, int computeNode, long epoch) {
        try {
            this.file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the history file " + path + ": " + e.getMessage(), e);
        }
        this.computeNode = computeNode;
        write(HistoryFile.HEADER + " cn=" + computeNode + " epoch=" + epoch);
    }

    public int computeNode() {
        return computeNode;
    }

    /** Thread {@code thread}'s operation {@code seq} starts: a put of {@code value}, or a get/delete. */
    public void invoke(int thread, long seq, HistoryFile.Kind kind, long key, long value) {
        write("I " + thread + " " + seq + " " + kind + " " + key + " " + (kind == HistoryFile.Kind.PUT ? value : 0) + " "
                + System.nanoTime());
    }

    /** Thread {@code thread}'s operation {@code seq} returned {@code result} (gets: the value read or absent). */
    public void respond(int thread, long seq, long result, boolean absent) {
        write("R " + thread + " " + seq + " " + (absent ? "absent" : Long.toString(result)) + " " + System.nanoTime());
    }

    /** Thread {@code thread} has made {@code total} acknowledged locked-counter increments so far. */
    public void increments(int thread, long total) {
        write("C " + thread + " " + total + " " + System.nanoTime());
    }

    /** Thread {@code thread} now holds every lock of its increment. */
    public void holding(int thread) {
        write("H " + thread + " " + System.nanoTime());
    }

    /** After the run: key {@code key} holds {@code value} (or nothing). */
    public void finalValue(long key, long value, boolean absent) {
        write("F " + key + " " + (absent ? "absent" : Long.toString(value)));
    }

    /** This node's round is over: every thread finished; nothing of it is in flight any more. */
    public void done() {
        write("D");
    }

    /**
     * After the run: the {@code words} locked counters read {@code min} to {@code max}, and the
     * compute nodes that finished acknowledged {@code acknowledged} increments in all.
     */
    public void counters(int words, long min, long max, long acknowledged) {
        write("V " + words + " " + min + " " + max + " " + acknowledged);
    }

    private synchronized void write(String text) {
        byte[] b = (text + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buf = b.length <= line.capacity() ? line.clear().put(b).flip() : ByteBuffer.wrap(b);
        try {
            while (buf.hasRemaining()) {
                file.write(buf);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the history: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            file.close();
        } catch (IOException e) {
            // the lines are written already
        }
    }
}
