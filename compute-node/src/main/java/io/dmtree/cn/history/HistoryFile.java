package io.dmtree.cn.history;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One compute node's history file ({@link HistoryLog} writes it), parsed. Lines:
 * <pre>
 * # dmtree history v1 cn=N epoch=E           header
 * I thread seq KIND key value invokeNanos    an operation starts (KIND: GET, PUT, DELETE; value: what a PUT writes)
 * R thread seq result responseNanos          it returned (result: the value a GET read, or "absent")
 * C thread total [nanos]                     that thread's acknowledged locked-counter increments so far (and when)
 * F key value|absent                         after the run, the key's final value (the reporting node)
 * V words min max acknowledged               after the run, the locked counters and the increments acknowledged
 * H thread nanos                             that thread holds every lock of its next increment
 * D                                          this node's round finished: nothing of it is in flight
 * </pre>
 * A last line cut short by a kill is ignored; any other malformed line is an error naming the file
 * and line.
 */
public final class HistoryFile {
    static final String HEADER = "# dmtree history v1";

    public enum Kind { GET, PUT, DELETE }

    /**
     * An operation of the file: {@code response} is {@link Long#MAX_VALUE} when it is pending
     * (no response line); {@code result} is what a GET read.
     */
    public record Op(int computeNode, int thread, long seq, Kind kind, long key, long value, long invoke, long response,
                     long result, boolean resultAbsent) {
        public boolean pending() {
            return response == Long.MAX_VALUE;
        }

        public boolean isWrite() {
            return kind != Kind.GET;
        }
    }

    /** The final counter line, if the file has one. */
    public record Counters(int words, long min, long max, long acknowledged) {
    }

    private final Path path;
    private final int computeNode;
    private final long epoch;
    private final List<Op> ops;
    private final long increments;
    private final int counterThreads;
    private final Map<Long, Long> finals;
    private final Counters counters;
    private final boolean done;
    private final List<Long> incrementTimes;
    private final java.util.Set<Integer> holdingAtEnd;

    private HistoryFile(Path path, int computeNode, long epoch, List<Op> ops, long increments, int counterThreads,
                        Map<Long, Long> finals, Counters counters, boolean done, List<Long> incrementTimes,
                        java.util.Set<Integer> holdingAtEnd) {
        this.holdingAtEnd = holdingAtEnd;
        this.done = done;
        this.incrementTimes = incrementTimes;
        this.path = path;
        this.computeNode = computeNode;
        this.epoch = epoch;
        this.ops = ops;
        this.increments = increments;
        this.counterThreads = counterThreads;
        this.finals = finals;
        this.counters = counters;
    }

    /** A final value of a key that holds nothing. */
    public static final long ABSENT = Long.MIN_VALUE;

    public static HistoryFile read(Path path) throws IOException {
        List<String> lines = Files.readAllLines(path, StandardCharsets.US_ASCII);
        if (lines.isEmpty() || !lines.get(0).startsWith(HEADER + " ")) {
            throw new IOException(path + " is not a dmtree history file (no '" + HEADER + "' header)");
        }
        int cn = Integer.parseInt(field(path, 1, lines.get(0), "cn="));
        long epoch = Long.parseLong(field(path, 1, lines.get(0), "epoch="));
        Map<String, String[]> invocations = new LinkedHashMap<>();
        Map<String, String[]> responses = new HashMap<>();
        Map<Integer, Long> perThreadIncrements = new HashMap<>();
        List<Long> incrementTimes = new ArrayList<>();
        java.util.Set<Integer> holding = new java.util.TreeSet<>();
        Map<Long, Long> finals = new LinkedHashMap<>();
        Counters counters = null;
        boolean done = false;
        // a kill may cut the last line short: it has no newline, and is not trusted
        byte[] raw = Files.readAllBytes(path);
        int last = raw.length > 0 && raw[raw.length - 1] != '\n' ? lines.size() - 1 : lines.size();
        for (int i = 1; i < last; i++) {
            String[] f = lines.get(i).split(" ");
            try {
                switch (f[0]) {
                    case "I" -> {
                        need(f, 7);
                        invocations.put(f[1] + "/" + f[2], f);
                    }
                    case "R" -> {
                        need(f, 5);
                        responses.put(f[1] + "/" + f[2], f);
                    }
                    case "C" -> {
                        if (f.length != 3) {
                            need(f, 4);
                            incrementTimes.add(Long.parseLong(f[3]));
                        }
                        perThreadIncrements.put(Integer.parseInt(f[1]), Long.parseLong(f[2]));
                        holding.remove(Integer.parseInt(f[1]));
                    }
                    case "F" -> {
                        need(f, 3);
                        finals.put(Long.parseLong(f[1]), f[2].equals("absent") ? ABSENT : Long.parseLong(f[2]));
                    }
                    case "V" -> {
                        need(f, 5);
                        counters = new Counters(Integer.parseInt(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                                Long.parseLong(f[4]));
                    }
                    case "D" -> done = true;
                    case "H" -> {
                        need(f, 3);
                        holding.add(Integer.parseInt(f[1]));
                    }
                    default -> throw new IllegalArgumentException("unknown line kind '" + f[0] + "'");
                }
            } catch (RuntimeException e) {
                throw new IOException(path + " line " + (i + 1) + ": " + e.getMessage() + ": " + lines.get(i));
            }
        }
        List<Op> ops = new ArrayList<>();
        for (Map.Entry<String, String[]> e : invocations.entrySet()) {
            String[] in = e.getValue();
            String[] out = responses.get(e.getKey());
            Kind kind = Kind.valueOf(in[3]);
            long response = out == null ? Long.MAX_VALUE : Long.parseLong(out[4]);
            boolean absent = out != null && out[3].equals("absent");
            long result = out == null || absent ? 0 : Long.parseLong(out[3]);
            ops.add(new Op(cn, Integer.parseInt(in[1]), Long.parseLong(in[2]), kind, Long.parseLong(in[4]),
                    Long.parseLong(in[5]), Long.parseLong(in[6]), response, result, absent));
        }
        long increments = perThreadIncrements.values().stream().mapToLong(Long::longValue).sum();
        return new HistoryFile(path, cn, epoch, List.copyOf(ops), increments, perThreadIncrements.size(), finals, counters,
                done, List.copyOf(incrementTimes), java.util.Set.copyOf(holding));
    }

    private static void need(String[] f, int n) {
        if (f.length != n) {
            throw new IllegalArgumentException(f.length + " fields, expected " + n);
        }
    }

    private static String field(Path path, int line, String text, String name) throws IOException {
        for (String part : text.split(" ")) {
            if (part.startsWith(name)) {
                return part.substring(name.length());
            }
        }
        throw new IOException(path + " line " + line + ": no " + name);
    }

    public Path path() {
        return path;
    }

    public int computeNode() {
        return computeNode;
    }

    public long epoch() {
        return epoch;
    }

    public List<Op> ops() {
        return ops;
    }

    /** Acknowledged locked-counter increments of all threads of this file. */
    public long increments() {
        return increments;
    }

    /** Threads that recorded increments (each may have one more in flight when the process died). */
    public int counterThreads() {
        return counterThreads;
    }

    /** Final values by key (ABSENT for none); empty unless this node reported. */
    public Map<Long, Long> finals() {
        return finals;
    }

    /**
     * The time of this node's first acknowledged increment after {@code nanos}, or
     * {@link Long#MAX_VALUE}: with every increment taking every counter lock, the first one after
     * another node's death is when all the locks it held were granted again.
     */
    public long firstIncrementAfter(long nanos) {
        long first = Long.MAX_VALUE;
        for (long t : incrementTimes) {
            if (t > nanos && t < first) {
                first = t;
            }
        }
        return first;
    }

    /** Threads whose last counter line says they held every lock of an increment not acknowledged. */
    public java.util.Set<Integer> holdingAtEnd() {
        return holdingAtEnd;
    }

    /** The node finished its round (a 'D' line): none of its operations is in flight. */
    public boolean done() {
        return done;
    }

    /** The final counters line, or null. */
    public Counters counters() {
        return counters;
    }
}
