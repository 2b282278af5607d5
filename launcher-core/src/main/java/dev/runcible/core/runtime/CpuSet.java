package dev.runcible.core.runtime;

import static java.util.Objects.requireNonNull;

import dev.runcible.core.InvalidRequestException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Optional;

/**
 * A container's CPUs and memory nodes ({@code --cpuset-cpus}, {@code --cpuset-mems}) in the kernel's list format
 * ({@code 0-3,8,10-11}), checked against what the node has online, so a NUMA pinning that names a CPU the node
 * lacks fails with its name rather than inside runc.
 */
public record CpuSet(Optional<String> cpus, Optional<String> mems) {
    public static final CpuSet NONE = new CpuSet(Optional.empty(), Optional.empty());
    static final Path ONLINE_CPUS = Path.of("/sys/devices/system/cpu/online");
    static final Path ONLINE_NODES = Path.of("/sys/devices/system/node/online");
    private static final int MOST = 1 << 16;

    public CpuSet {
        requireNonNull(cpus, "cpus is null");
        requireNonNull(mems, "mems is null");
    }

    /** Parses and checks both lists against this node's online CPUs and memory nodes. */
    public static CpuSet parse(String cpus, String mems) throws InvalidRequestException {
        return parse(cpus, mems, read(ONLINE_CPUS, "0"), read(ONLINE_NODES, "0"));
    }

    static CpuSet parse(String cpus, String mems, String onlineCpus, String onlineNodes)
            throws InvalidRequestException {
        return new CpuSet(check("--cpuset-cpus", cpus, onlineCpus, "CPU"), check("--cpuset-mems", mems, onlineNodes,
                "memory node"));
    }

    private static Optional<String> check(String option, String value, String online, String what)
            throws InvalidRequestException {
        if (value == null) {
            return Optional.empty();
        }
        BitSet wanted = bits(value.strip());
        if (wanted == null || wanted.isEmpty()) {
            throw new InvalidRequestException("Invalid " + option + " '" + value + "': use a list such as 0-3,8 of "
                    + "numbers below " + MOST);
        }
        BitSet available = bits(online.strip());
        BitSet missing = (BitSet) wanted.clone();
        if (available != null) {
            missing.andNot(available);
        }
        if (!missing.isEmpty()) {
            throw new InvalidRequestException("Invalid " + option + " '" + value + "': " + what + " "
                    + missing.nextSetBit(0) + " is not online on this node (online: " + online.strip() + ")");
        }
        return Optional.of(value.strip());
    }

    /** The set a kernel list names, or null when it is malformed. */
    static BitSet bits(String list) {
        BitSet bits = new BitSet();
        if (list.isEmpty()) {
            return bits;
        }
        for (String part : list.split(",", -1)) {
            int dash = part.indexOf('-');
            Integer from = number(dash < 0 ? part : part.substring(0, dash));
            Integer to = dash < 0 ? from : number(part.substring(dash + 1));
            if (from == null || to == null || from > to) {
                return null;
            }
            bits.set(from, to + 1);
        }
        return bits;
    }

    private static Integer number(String text) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        int value = Integer.parseInt(text);
        return value < MOST ? value : null;
    }

    private static String read(Path file, String absent) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return absent; // a kernel without NUMA has one memory node, 0
        }
    }
}
