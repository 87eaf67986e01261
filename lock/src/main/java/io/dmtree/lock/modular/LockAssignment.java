package io.dmtree.lock.modular;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * An assignment of the four lock managers to places, after the lock-modularization principle:
 * each manager goes where its resource needs are met, and managers that share a place are fused
 * so they talk through shared state instead of messages.
 *
 * <p>The managers' operations, as the modular lock runs them:
 * <ul>
 *   <li>mode manager: decides whether a request can be granted now (acquire) and updates the
 *   mode when holders leave (release), validating the grant count before a grant takes effect;</li>
 *   <li>holder manager: adds granted requests to the holders and removes releasing ones, reporting
 *   the grant count it has absorbed;</li>
 *   <li>waiter manager: records requests that cannot be granted and selects who is next (one
 *   exclusive waiter, or every consecutive shared waiter);</li>
 *   <li>grant manager: tells a selected waiter that it holds the lock.</li>
 * </ul>
 *
 * <p>Two assignments are built: {@link #MODULAR} (mode, holder and waiter fused on the MN as one
 * lock word and a ring of waiter entries; grant manager on the CNs, which message the next
 * waiter's CN) and {@link #MN_GRANT} (the same MN state with the grant manager left on the MN:
 * the releaser marks the waiter's entry granted and waiters poll their entry). On every CN the
 * threads of that CN form a cohort whose local managers are all on the CN (see {@link Cohort}).
 */
public record LockAssignment(String name, ManagerPlace mode, ManagerPlace holder, ManagerPlace waiter,
                             ManagerPlace grant) {
    public static final LockAssignment MODULAR = new LockAssignment("modular",
            ManagerPlace.MEMORY_NODE, ManagerPlace.MEMORY_NODE, ManagerPlace.MEMORY_NODE, ManagerPlace.COMPUTE_NODE);
    public static final LockAssignment MN_GRANT = new LockAssignment("modular-mn-grant",
            ManagerPlace.MEMORY_NODE, ManagerPlace.MEMORY_NODE, ManagerPlace.MEMORY_NODE, ManagerPlace.MEMORY_NODE);

    public LockAssignment {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("an assignment needs a name");
        }
        if (mode == null || holder == null || waiter == null || grant == null) {
            throw new IllegalArgumentException("assignment " + name + " leaves a manager without a place");
        }
        if (mode != ManagerPlace.MEMORY_NODE || holder != ManagerPlace.MEMORY_NODE
                || waiter != ManagerPlace.MEMORY_NODE) {
            throw new IllegalArgumentException("assignment " + name + " is not built: on disaggregated memory the mode,"
                    + " holder and waiter managers must share the memory node, where every compute node reaches them"
                    + " with one atomic verb (mode=" + mode + ", holder=" + holder + ", waiter=" + waiter + ")");
        }
    }

    /** The managers of each place, fused into one component per place. */
    public Map<ManagerPlace, List<String>> fusedGroups() {
        Map<ManagerPlace, List<String>> groups = new EnumMap<>(ManagerPlace.class);
        add(groups, mode, "mode");
        add(groups, holder, "holder");
        add(groups, waiter, "waiter");
        add(groups, grant, "grant");
        return groups;
    }

    private static void add(Map<ManagerPlace, List<String>> groups, ManagerPlace place, String manager) {
        groups.computeIfAbsent(place, p -> new ArrayList<>()).add(manager);
    }

    public boolean grantsByMessage() {
        return grant == ManagerPlace.COMPUTE_NODE;
    }
}
