package dev.runcible.core.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The launcher's own configuration keys, read (and so marked used) from {@link Settings}.
 *
 * @param tagToManifest plugin name for {@code runcible.image.tag-to-manifest}
 * @param manifestToResources plugin name for {@code runcible.image.manifest-to-resources}
 * @param localizer plugin name for {@code runcible.image.localizer}
 * @param runDir {@code runcible.run.dir}: container state, layer mount points, runc state
 * @param runcBinary {@code runcible.runc.binary}: runc (or a drop-in such as crun), by name or path
 * @param allowedImages {@code runcible.allowed.images}
 * @param allowedReadOnly {@code runcible.mounts.allowed-ro}: prefixes bind mounts may come from, read-only
 * @param allowedReadWrite {@code runcible.mounts.allowed-rw}: prefixes bind mounts may come from, read-write
 * @param allowRoot {@code runcible.allow-root}: whether a container's process may run as uid 0
 * @param seccompProfile {@code runcible.seccomp.profile}: {@code default}, {@code unconfined} or a JSON file
 * @param defaultPids {@code runcible.pids.default}: the pids limit of a container that asks for none (0: none)
 * @param keepLayerMounts {@code runcible.layer-mounts.keep}: unused layer mounts kept for the next launch
 * @param configDirectory the directory of the configuration file, which no container may mount read-write
 * @param cgroupParent {@code runcible.cgroup.parent}: the cgroup containers go under unless a launch names another
 * @param agent who besides root may use the node agent, and as whom their containers run
 */
public record CoreConfig(String tagToManifest, String manifestToResources, String localizer, Path runDir,
        String runcBinary, ImagePolicy allowedImages, List<Path> allowedReadOnly, List<Path> allowedReadWrite,
        boolean allowRoot, String seccompProfile, long defaultPids, int keepLayerMounts,
        Optional<Path> configDirectory, String cgroupParent, AgentPolicy agent) {
    public static final String TAG_TO_MANIFEST = "runcible.image.tag-to-manifest";
    public static final String MANIFEST_TO_RESOURCES = "runcible.image.manifest-to-resources";
    public static final String LOCALIZER = "runcible.image.localizer";
    public static final String RUN_DIR = "runcible.run.dir";
    public static final String RUNC_BINARY = "runcible.runc.binary";
    public static final String ALLOWED_IMAGES = "runcible.allowed.images";
    public static final String ALLOWED_RO = "runcible.mounts.allowed-ro";
    public static final String ALLOWED_RW = "runcible.mounts.allowed-rw";
    public static final String ALLOW_ROOT = "runcible.allow-root";
    public static final String SECCOMP = "runcible.seccomp.profile";
    public static final String DEFAULT_PIDS = "runcible.pids.default";
    public static final String KEEP_LAYER_MOUNTS = "runcible.layer-mounts.keep";
    /**
     * As Storm and YARN keep: an idle squashfs mount costs about 12 KiB of kernel memory and a loop device here,
     * while remounting costs a loop setup and a mount at the next launch of the image.
     */
    public static final int DEFAULT_KEEP_LAYER_MOUNTS = 100;
    public static final String CGROUP_PARENT = "runcible.cgroup.parent";

    public static final Path DEFAULT_RUN_DIR = Path.of("/var/lib/runcible/run");

    public CoreConfig {
        requireNonNull(tagToManifest, "tagToManifest is null");
        requireNonNull(manifestToResources, "manifestToResources is null");
        requireNonNull(localizer, "localizer is null");
        requireNonNull(runDir, "runDir is null");
        requireNonNull(runcBinary, "runcBinary is null");
        requireNonNull(allowedImages, "allowedImages is null");
        allowedReadOnly = List.copyOf(allowedReadOnly);
        allowedReadWrite = List.copyOf(allowedReadWrite);
        requireNonNull(seccompProfile, "seccompProfile is null");
        requireNonNull(configDirectory, "configDirectory is null");
        requireNonNull(cgroupParent, "cgroupParent is null");
        requireNonNull(agent, "agent is null");
    }

    public static CoreConfig from(Settings settings) {
        Path runDir = settings.path(RUN_DIR, DEFAULT_RUN_DIR);
        // Overlay options are separated by ',' and lower dirs by ':'; neither may appear in our paths.
        if (runDir.toString().contains(",") || runDir.toString().contains(":")) {
            settings.problem(RUN_DIR, "must not contain ',' or ':' (overlay mount options cannot escape them), got '"
                    + runDir + "'");
        }
        List<String> problems = new ArrayList<>();
        ImagePolicy policy = ImagePolicy.parse(settings.list(ALLOWED_IMAGES, List.of("*")), problems);
        problems.forEach(settings::problem);
        return new CoreConfig(
                settings.get(TAG_TO_MANIFEST, "local"),
                settings.get(MANIFEST_TO_RESOURCES, "local"),
                settings.get(LOCALIZER, "squashfs"),
                runDir,
                settings.get(RUNC_BINARY, "runc"),
                policy,
                paths(settings, ALLOWED_RO),
                paths(settings, ALLOWED_RW),
                settings.bool(ALLOW_ROOT, false),
                seccomp(settings),
                settings.integer(DEFAULT_PIDS, 4096, 0, 4_194_304),
                settings.integer(KEEP_LAYER_MOUNTS, DEFAULT_KEEP_LAYER_MOUNTS, 0, 100_000),
                settings.file().map(file -> file.toAbsolutePath().getParent()),
                cgroupParent(settings),
                AgentPolicy.from(settings));
    }

    private static String cgroupParent(Settings settings) {
        String parent = settings.get(CGROUP_PARENT, "runcible");
        try {
            dev.runcible.core.container.RunOptions.checkCgroupParent(CGROUP_PARENT, parent);
        } catch (dev.runcible.core.InvalidRequestException e) {
            settings.problem(CGROUP_PARENT, e.getMessage());
            return "runcible";
        }
        return parent;
    }

    private static String seccomp(Settings settings) {
        String value = settings.get(SECCOMP, "default");
        if (!value.equals("default") && !value.equals("unconfined") && !value.startsWith("/")) {
            settings.problem(SECCOMP, "must be 'default', 'unconfined' or the absolute path of a seccomp JSON file, "
                    + "got '" + value + "'");
            return "default";
        }
        return value;
    }

    private static List<Path> paths(Settings settings, String key) {
        List<Path> paths = new ArrayList<>();
        for (String entry : settings.list(key, List.of())) {
            Path path = Path.of(entry);
            if (!path.isAbsolute()) {
                settings.problem(key, "entries must be absolute paths, got '" + entry + "'");
            } else {
                paths.add(path.normalize());
            }
        }
        return paths;
    }
}
