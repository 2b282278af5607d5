package dev.runcible.storm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.storm.Config;
import org.apache.storm.DaemonConfig;
import org.apache.storm.ServerConstants;
import org.apache.storm.container.oci.OciUtils;
import org.apache.storm.daemon.supervisor.SupervisorUtils;
import org.apache.storm.utils.ObjectReader;

/**
 * The supervisor's configuration as the adapter uses it: Storm's own {@code storm.oci.*} keys, so a configuration
 * written for Storm's runc manager keeps its meaning, and the agent's socket. A key whose effect the agent decides
 * for every caller (the seccomp profile, how many layer mounts stay) or that names a Storm plugin the agent does not
 * run is refused here, at the supervisor's start, with the agent's key that does the same.
 */
public record StormSettings(Path socket, String defaultImage, List<String> allowedImages, String cgroupParent,
        Path cgroupRoot, List<String> readOnlyMounts, List<String> readWriteMounts, Optional<Path> nscd,
        Optional<Integer> cpuLimit, boolean memoryEnforced, Map<String, Numa> numa, Path stormHome) {

    /** The supervisor's key for the agent's socket; {@code $RUNCIBLE_AGENT_SOCKET}, then the default, without it. */
    public static final String AGENT_SOCKET = "runcible.agent.socket";
    static final String DEFAULT_SOCKET = "/run/runcible/agent.sock";
    static final String DEFAULT_NSCD = "/var/run/nscd";

    /** Storm's image-store plugins whose work the agent's {@code hdfs} store does: accepted, the agent serves them. */
    private static final Map<String, String> STORE_PLUGINS = Map.of(
            DaemonConfig.STORM_OCI_IMAGE_TAG_TO_MANIFEST_PLUGIN,
            "org.apache.storm.container.oci.LocalOrHdfsImageTagToManifestPlugin",
            DaemonConfig.STORM_OCI_MANIFEST_TO_RESOURCES_PLUGIN,
            "org.apache.storm.container.oci.HdfsManifestToResourcesPlugin",
            DaemonConfig.STORM_OCI_RESOURCES_LOCALIZER,
            "org.apache.storm.container.oci.HdfsOciResourcesLocalizer");

    /** A NUMA zone of {@code supervisor.numa.meta}: its CPUs and its memory node. */
    public record Numa(String cpus, String mems) {
    }

    /**
     * Reads the supervisor's configuration.
     *
     * @param stormHome the {@code storm.home} the supervisor runs from (bound read-only into workers)
     * @throws StormConfigException naming the first key it cannot honour and what to set instead
     */
    public static StormSettings from(Map<String, Object> conf, Path stormHome, Map<String, String> environment) {
        refuseAgentWide(conf, DaemonConfig.STORM_OCI_SECCOMP_PROFILE, "runcible.seccomp.profile");
        refuseAgentWide(conf, DaemonConfig.STORM_OCI_LAYER_MOUNTS_TO_KEEP, "runcible.layer-mounts.keep");
        for (Map.Entry<String, String> plugin : STORE_PLUGINS.entrySet()) {
            Object named = conf.get(plugin.getKey());
            if (named != null && !plugin.getValue().equals(named.toString())) {
                throw new StormConfigException(plugin.getKey() + "=" + named + ": the node agent reads images "
                        + "itself (Storm's HDFS store layout, a local store or a registry, set in its "
                        + "configuration), it cannot run a Storm image plugin; remove the key, or set it to "
                        + plugin.getValue());
            }
        }
        Object socketValue = conf.get(AGENT_SOCKET);
        String socket = socketValue != null ? socketValue.toString()
                : environment.getOrDefault("RUNCIBLE_AGENT_SOCKET", DEFAULT_SOCKET);
        if (!socket.startsWith("/")) {
            throw new StormConfigException(AGENT_SOCKET + "=" + socket + ": give the agent's socket as an "
                    + "absolute path (the agent's --socket; default " + DEFAULT_SOCKET + ")");
        }
        try {
            OciUtils.validateImageInDaemonConf(conf);
        } catch (IllegalArgumentException e) {
            throw new StormConfigException(e.getMessage() + "; fix " + DaemonConfig.STORM_OCI_IMAGE + " or "
                    + DaemonConfig.STORM_OCI_ALLOWED_IMAGES);
        }
        for (Map.Entry<String, String> dir : Map.of(Config.STORM_LOCAL_DIR,
                String.valueOf(conf.get(Config.STORM_LOCAL_DIR)), "storm.home", stormHome.toString()).entrySet()) {
            Path path = Path.of(dir.getValue()).toAbsolutePath().normalize();
            if (path.startsWith("/tmp")) {
                throw new StormConfigException(dir.getKey() + "=" + path + " lies under /tmp, where each worker gets "
                        + "its own tmp directory, which would hide it; move it out of /tmp");
            }
        }
        String defaultImage = ObjectReader.getString(conf.get(DaemonConfig.STORM_OCI_IMAGE), null);
        List<String> allowed = ObjectReader.getStrings(conf.get(DaemonConfig.STORM_OCI_ALLOWED_IMAGES));
        String parent = cgroupParent(ObjectReader.getString(conf.get(DaemonConfig.STORM_OCI_CGROUP_PARENT),
                "/storm"));
        Path cgroupRoot = absolute(conf, Config.STORM_OCI_CGROUP_ROOT, "/sys/fs/cgroup");
        List<String> readOnly = mounts(conf, DaemonConfig.STORM_OCI_READONLY_BINDMOUNTS);
        List<String> readWrite = mounts(conf, DaemonConfig.STORM_OCI_READWRITE_BINDMOUNTS);
        Optional<Path> nscd = nscd(conf);
        Object cpu = conf.get(DaemonConfig.STORM_WORKER_CGROUP_CPU_LIMIT);
        Optional<Integer> cpuLimit = cpu == null ? Optional.empty() : Optional.of(ObjectReader.getInt(cpu));
        boolean memory = ObjectReader.getBoolean(conf.get(DaemonConfig.STORM_CGROUP_MEMORY_ENFORCEMENT_ENABLE),
                false);
        return new StormSettings(Path.of(socket), defaultImage, allowed, parent, cgroupRoot, readOnly, readWrite,
                nscd, cpuLimit, memory, numa(conf), stormHome);
    }

    /** The image a topology runs: its {@code topology.oci.image}, else {@code storm.oci.image}. */
    public String image(Map<String, Object> topoConf) {
        Object own = topoConf == null ? null : topoConf.get(Config.TOPOLOGY_OCI_IMAGE);
        String image = own != null ? own.toString() : defaultImage;
        if (image == null) {
            throw new StormConfigException("no image for the worker: set " + DaemonConfig.STORM_OCI_IMAGE
                    + " in storm.yaml or " + Config.TOPOLOGY_OCI_IMAGE + " in the topology");
        }
        if (!allowedImages.isEmpty() && !allowedImages.contains("*") && !allowedImages.contains(image)) {
            throw new StormConfigException(Config.TOPOLOGY_OCI_IMAGE + "=" + image + " is not in "
                    + DaemonConfig.STORM_OCI_ALLOWED_IMAGES + " " + allowedImages
                    + "; pick one of those or ask the operator to add it");
        }
        return image;
    }

    private static void refuseAgentWide(Map<String, Object> conf, String key, String agentKey) {
        Object value = conf.get(key);
        if (value != null) {
            throw new StormConfigException(key + "=" + value + ": the node agent applies " + agentKey
                    + " to every container it runs, so one worker cannot choose it; set " + agentKey + "="
                    + value + " in the agent's configuration and remove " + key + " from storm.yaml");
        }
    }

    /** Storm's {@code /storm} is the agent's {@code storm}: a path under every controller's root. */
    static String cgroupParent(String configured) {
        String parent = configured.replaceAll("^/+", "").replaceAll("/+$", "");
        if (parent.isEmpty() || List.of(parent.split("/+")).stream()
                .anyMatch(part -> part.equals("..") || part.equals("."))) {
            throw new StormConfigException(DaemonConfig.STORM_OCI_CGROUP_PARENT + "=" + configured
                    + ": name a cgroup below the root, such as /storm, without . or ..");
        }
        return parent;
    }

    private static Path absolute(Map<String, Object> conf, String key, String fallback) {
        String value = ObjectReader.getString(conf.get(key), fallback);
        if (!value.startsWith("/")) {
            throw new StormConfigException(key + "=" + value + ": give an absolute path");
        }
        return Path.of(value);
    }

    private static List<String> mounts(Map<String, Object> conf, String key) {
        List<String> paths = new ArrayList<>();
        for (String path : ObjectReader.getStrings(conf.get(key))) {
            if (!path.startsWith("/") || path.contains(":") || path.contains(",")) {
                throw new StormConfigException(key + " holds " + path + ": each entry is an absolute host path, "
                        + "bound at the same path in the worker, without : or ,");
            }
            paths.add(path);
        }
        return List.copyOf(paths);
    }

    /** Storm's default nscd directory is bound where the node has it; a directory the operator named must exist. */
    private static Optional<Path> nscd(Map<String, Object> conf) {
        Object value = conf.get(DaemonConfig.STORM_OCI_NSCD_DIR);
        if (value == null) {
            return Optional.empty();
        }
        Path path = Path.of(value.toString());
        if (Files.isDirectory(path)) {
            return Optional.of(path);
        }
        if (value.toString().equals(DEFAULT_NSCD)) {
            return Optional.empty();
        }
        throw new StormConfigException(DaemonConfig.STORM_OCI_NSCD_DIR + "=" + value + " is not a directory on "
                + "this node; start nscd there or remove the key");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Numa> numa(Map<String, Object> conf) {
        Map<String, Numa> zones = new LinkedHashMap<>();
        Map<String, Object> validated;
        try {
            validated = SupervisorUtils.getNumaMap(conf);
        } catch (RuntimeException e) {
            throw new StormConfigException(DaemonConfig.SUPERVISOR_NUMA_META + ": " + e.getMessage());
        }
        for (Map.Entry<String, Object> zone : validated.entrySet()) {
            Map<String, Object> entry = (Map<String, Object>) zone.getValue();
            List<String> cores = ObjectReader.getStrings(entry.get(ServerConstants.NUMA_CORES));
            zones.put(zone.getKey(), new Numa(String.join(",", cores), zone.getKey()));
        }
        return Map.copyOf(zones);
    }
}
