package dev.runcible.registry;

import dev.runcible.api.PluginConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code registry.*} configuration keys.
 *
 * @param insecure hosts (host:port) spoken to over plain HTTP; every other registry is HTTPS
 * @param caFile a PEM file of CA certificates trusted in addition to the JDK's
 * @param username basic credentials for every registry (docker config.json entries are per registry)
 * @param authFile a docker {@code config.json} whose {@code auths} entries give credentials per registry
 * @param maxTries attempts for a request that fails with a 5xx status, a timeout or a broken connection
 * @param checkBlobAccess whether a blob the node already holds is used for an image only once that image's own
 *     repository answers a HEAD request for it
 */
record RegistrySettings(Set<String> insecure, Optional<Path> caFile, Optional<String> username,
        Optional<String> password, Optional<Path> authFile, int maxTries, int connectTimeoutSeconds,
        int readTimeoutSeconds, boolean checkBlobAccess) {
    static final String INSECURE = "registry.insecure-registries";
    static final String CA_FILE = "registry.ca-file";
    static final String USERNAME = "registry.username";
    static final String PASSWORD = "registry.password";
    static final String AUTH_FILE = "registry.auth-file";
    static final String MAX_TRIES = "registry.max-tries";
    static final String CONNECT_TIMEOUT = "registry.connect-timeout-seconds";
    static final String READ_TIMEOUT = "registry.read-timeout-seconds";
    static final String CHECK_BLOB_ACCESS = "registry.check-blob-access";
    static final List<String> KEYS = List.of(INSECURE, CA_FILE, USERNAME, PASSWORD, AUTH_FILE, MAX_TRIES,
            CONNECT_TIMEOUT, READ_TIMEOUT, CHECK_BLOB_ACCESS);

    static RegistrySettings from(PluginConfig config) {
        Optional<Path> caFile = config.get(CA_FILE).map(v -> config.path(CA_FILE, null));
        caFile.ifPresent(file -> {
            if (!Files.isReadable(file)) {
                config.problem(CA_FILE, "names " + file + ", which is not a readable file");
            }
        });
        Optional<String> username = config.get(USERNAME);
        Optional<String> password = config.get(PASSWORD);
        if (username.isPresent() != password.isPresent()) {
            config.problem(username.isPresent() ? PASSWORD : USERNAME, "must be set together with "
                    + (username.isPresent() ? USERNAME : PASSWORD));
        }
        Optional<Path> authFile = config.get(AUTH_FILE).map(v -> config.path(AUTH_FILE, null))
                .or(RegistrySettings::defaultAuthFile);
        return new RegistrySettings(Set.copyOf(config.list(INSECURE, List.of())), caFile, username, password,
                authFile, config.integer(MAX_TRIES, 4, 1, 20), config.integer(CONNECT_TIMEOUT, 10, 1, 600),
                config.integer(READ_TIMEOUT, 60, 1, 3600), config.bool(CHECK_BLOB_ACCESS, true));
    }

    /** Where docker keeps credentials: $DOCKER_CONFIG/config.json, else ~/.docker/config.json, if it exists. */
    private static Optional<Path> defaultAuthFile() {
        String dockerConfig = System.getenv("DOCKER_CONFIG");
        Path file = dockerConfig != null ? Path.of(dockerConfig, "config.json")
                : Path.of(System.getProperty("user.home"), ".docker", "config.json");
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }
}
