package dev.runcible.core.container;

import static java.util.Objects.requireNonNull;

import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.runtime.CpuSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a scheduler sets on a launch besides the image and its command.
 *
 * @param workdir replaces the image's WorkingDir ({@code --workdir}); absolute
 * @param groupAdd supplementary gids added to the user's ({@code --group-add})
 * @param cgroupParent the cgroup the container's own goes under ({@code --cgroup-parent}), relative to each
 *     hierarchy's root; empty: {@code runcible.cgroup.parent}
 * @param cpuset the CPUs and memory nodes the container may use
 */
public record RunOptions(Optional<String> workdir, List<Integer> groupAdd, Optional<String> cgroupParent,
        CpuSet cpuset) {
    public static final RunOptions NONE = new RunOptions(Optional.empty(), List.of(), Optional.empty(), CpuSet.NONE);
    private static final Pattern CGROUP_PARENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}"
            + "(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}){0,15}");

    public RunOptions {
        requireNonNull(workdir, "workdir is null");
        groupAdd = List.copyOf(groupAdd);
        requireNonNull(cgroupParent, "cgroupParent is null");
        requireNonNull(cpuset, "cpuset is null");
    }

    public RunOptions withWorkdir(String dir) {
        return new RunOptions(Optional.of(dir), groupAdd, cgroupParent, cpuset);
    }

    public RunOptions withGroupAdd(List<Integer> gids) {
        return new RunOptions(workdir, gids, cgroupParent, cpuset);
    }

    public RunOptions withCgroupParent(String parent) {
        return new RunOptions(workdir, groupAdd, Optional.of(parent), cpuset);
    }

    public RunOptions withCpuset(CpuSet set) {
        return new RunOptions(workdir, groupAdd, cgroupParent, set);
    }

    /** Refuses a relative or unclean working directory, and gids out of range. */
    void check() throws InvalidRequestException {
        if (workdir.isPresent()) {
            String dir = workdir.get();
            if (!dir.startsWith("/") || dir.indexOf('\0') >= 0 || List.of(dir.split("/")).contains("..")) {
                throw new InvalidRequestException("Invalid --workdir '" + dir + "': give an absolute path inside "
                        + "the container, without '..'");
            }
        }
        for (int gid : groupAdd) {
            if (gid < 0 || gid == Integer.MAX_VALUE) {
                throw new InvalidRequestException("Invalid --group-add " + gid + ": give a gid from 0 to "
                        + (Integer.MAX_VALUE - 1));
            }
        }
        if (cgroupParent.isPresent()) {
            checkCgroupParent("--cgroup-parent", cgroupParent.get());
        }
    }

    /**
     * A cgroup parent is a relative path of plain names ({@code runcible}, {@code storm/workers}): never absolute,
     * never {@code ..} or {@code .}, so a container's cgroup stays below the root of every hierarchy.
     */
    public static void checkCgroupParent(String what, String parent) throws InvalidRequestException {
        boolean dots = List.of(parent.split("/")).stream().anyMatch(s -> s.equals("..") || s.equals("."));
        if (!CGROUP_PARENT.matcher(parent).matches() || dots) {
            throw new InvalidRequestException("Invalid " + what + " '" + parent + "': give a relative cgroup path of "
                    + "names made of [A-Za-z0-9_.-] such as 'runcible' or 'storm/workers', without '/' in front "
                    + "and without '..'");
        }
    }

    /** Parses {@code --group-add} values: numeric gids only, as they are host ids as much as the image's. */
    public static List<Integer> parseGids(List<String> values) throws InvalidRequestException {
        List<Integer> gids = new java.util.ArrayList<>();
        for (String value : values) {
            if (!value.matches("[0-9]{1,10}") || Long.parseLong(value) >= Integer.MAX_VALUE) {
                throw new InvalidRequestException("Invalid --group-add '" + value + "': give a numeric gid");
            }
            gids.add(Integer.parseInt(value));
        }
        return gids;
    }
}
