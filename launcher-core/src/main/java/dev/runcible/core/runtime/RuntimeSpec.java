package dev.runcible.core.runtime;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;

/**
 * Everything the OCI runtime config of one container is built from.
 *
 * @param args the process's argv
 * @param env NAME=value entries
 * @param cwd absolute working directory inside the container
 * @param user ids the process runs as
 * @param limits cgroup limits
 * @param binds bind mounts, host files first, then the user's
 * @param cgroupsPath the container's cgroup, the same in every v1 controller
 * @param nofile soft and hard RLIMIT_NOFILE
 * @param seccomp the seccomp filter, or empty for none
 * @param network the node's network, or a namespace of the container's own with loopback only
 * @param cpuset the CPUs and memory nodes it may use
 */
public record RuntimeSpec(List<String> args, List<String> env, String cwd, UserIds user, Limits limits,
        List<BindMount> binds, String cgroupsPath, long nofile, Optional<JsonNode> seccomp,
        Network network, CpuSet cpuset) {
    public RuntimeSpec {
        args = List.copyOf(args);
        env = List.copyOf(env);
        requireNonNull(cwd, "cwd is null");
        requireNonNull(user, "user is null");
        requireNonNull(limits, "limits is null");
        binds = List.copyOf(binds);
        requireNonNull(cgroupsPath, "cgroupsPath is null");
        requireNonNull(seccomp, "seccomp is null");
        requireNonNull(network, "network is null");
        requireNonNull(cpuset, "cpuset is null");
    }

    public RuntimeSpec(List<String> args, List<String> env, String cwd, UserIds user, Limits limits,
            List<BindMount> binds, String cgroupsPath, long nofile, Optional<JsonNode> seccomp, Network network) {
        this(args, env, cwd, user, limits, binds, cgroupsPath, nofile, seccomp, network, CpuSet.NONE);
    }
}
