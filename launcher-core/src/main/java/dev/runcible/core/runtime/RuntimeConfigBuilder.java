package dev.runcible.core.runtime;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.core.image.Json;
import java.util.List;

/**
 * Builds the OCI runtime config (runtime-spec 1.0.2, as runc 1.1 reads it). The base is runc's own default spec
 * ({@code runc spec}): its mounts, masked and read-only paths and deny-all device rule. On top: the image's process,
 * cgroup limits, the host's network (a cluster worker registers under the node's address and name), and the
 * node's resolv.conf, hosts and hostname files bound read-only, and the seccomp filter.
 */
public final class RuntimeConfigBuilder {
    public static final String OCI_VERSION = "1.0.2";

    /**
     * Docker's default capability set without NET_RAW (as podman gives it), for root inside the container: with the
     * host's network, a raw or packet socket would see and forge the node's traffic.
     */
    static final List<String> ROOT_CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID",
            "CAP_FOWNER", "CAP_MKNOD", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    static final List<String> MASKED_PATHS = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
            "/proc/scsi");

    static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");

    private RuntimeConfigBuilder() {
    }

    public static ObjectNode build(RuntimeSpec spec) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("ociVersion", OCI_VERSION);
        root.set("process", process(spec));
        ObjectNode rootfs = root.putObject("root");
        rootfs.put("path", "rootfs");
        rootfs.put("readonly", false);
        root.set("mounts", mounts(spec));
        root.set("linux", linux(spec));
        return root;
    }

    private static ObjectNode process(RuntimeSpec spec) {
        ObjectNode process = Json.MAPPER.createObjectNode();
        process.put("terminal", false);
        ObjectNode user = process.putObject("user");
        user.put("uid", spec.user().uid());
        user.put("gid", spec.user().gid());
        if (!spec.user().additionalGids().isEmpty()) {
            ArrayNode gids = user.putArray("additionalGids");
            spec.user().additionalGids().forEach(gids::add);
        }
        strings(process.putArray("args"), spec.args());
        strings(process.putArray("env"), spec.env());
        process.put("cwd", spec.cwd());
        // Root gets docker's default set; any other user only the bounding set, so it gains nothing by exec.
        ObjectNode capabilities = process.putObject("capabilities");
        strings(capabilities.putArray("bounding"), ROOT_CAPABILITIES);
        if (spec.user().uid() == 0) {
            strings(capabilities.putArray("effective"), ROOT_CAPABILITIES);
            strings(capabilities.putArray("permitted"), ROOT_CAPABILITIES);
        }
        ObjectNode nofile = process.putArray("rlimits").addObject();
        nofile.put("type", "RLIMIT_NOFILE");
        nofile.put("hard", spec.nofile());
        nofile.put("soft", spec.nofile());
        process.put("noNewPrivileges", true);
        return process;
    }

    private static ArrayNode mounts(RuntimeSpec spec) {
        ArrayNode mounts = Json.MAPPER.createArrayNode();
        mount(mounts, "/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev"));
        mount(mounts, "/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
        mount(mounts, "/dev/pts", "devpts", "devpts",
                List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"));
        mount(mounts, "/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
        mount(mounts, "/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev"));
        mount(mounts, "/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"));
        mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro"));
        for (BindMount bind : spec.binds()) {
            mount(mounts, bind.destination(), "bind", bind.source().toString(),
                    List.of("rbind", "rprivate", "nosuid", "nodev", bind.readOnly() ? "ro" : "rw"));
        }
        return mounts;
    }

    private static void mount(ArrayNode mounts, String destination, String type, String source, List<String> options) {
        ObjectNode mount = mounts.addObject();
        mount.put("destination", destination);
        mount.put("type", type);
        mount.put("source", source);
        strings(mount.putArray("options"), options);
    }

    private static ObjectNode linux(RuntimeSpec spec) {
        ObjectNode linux = Json.MAPPER.createObjectNode();
        ObjectNode resources = linux.putObject("resources");
        ObjectNode denyAll = resources.putArray("devices").addObject();
        denyAll.put("allow", false);
        denyAll.put("access", "rwm");
        Limits limits = spec.limits();
        limits.memoryBytes().ifPresent(bytes -> resources.putObject("memory").put("limit", bytes));
        if (limits.cpuQuotaMicros().isPresent() || spec.cpuset().cpus().isPresent()
                || spec.cpuset().mems().isPresent()) {
            ObjectNode cpu = resources.putObject("cpu");
            limits.cpuQuotaMicros().ifPresent(quota -> {
                cpu.put("quota", quota);
                cpu.put("period", Limits.CPU_PERIOD_US);
            });
            spec.cpuset().cpus().ifPresent(cpus -> cpu.put("cpus", cpus));
            spec.cpuset().mems().ifPresent(mems -> cpu.put("mems", mems));
        }
        limits.pids().ifPresent(pids -> resources.putObject("pids").put("limit", pids));
        linux.put("cgroupsPath", spec.cgroupsPath());
        ArrayNode namespaces = linux.putArray("namespaces");
        for (String type : List.of("pid", "ipc", "mount")) {
            namespaces.addObject().put("type", type);
        }
        if (spec.network() == Network.NONE) {
            namespaces.addObject().put("type", "network"); // a new one: runc brings up its loopback only
        }
        strings(linux.putArray("maskedPaths"), MASKED_PATHS);
        strings(linux.putArray("readonlyPaths"), READONLY_PATHS);
        spec.seccomp().ifPresent(profile -> linux.set("seccomp", profile.deepCopy()));
        return linux;
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }
}
