package dev.runcible.core.config;

import static java.util.Objects.requireNonNull;

import dev.runcible.api.ConfigurationException;
import dev.runcible.api.PluginConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Strict configuration from a properties file. Every key read is marked used; {@link #check()} reports keys nobody
 * read (typos, settings of a plugin that is not selected) together with every bad value found on the way, in one
 * exception. Values may reference the environment as {@code ${ENV:NAME}}. Values of keys that look secret are
 * never put into messages.
 */
public final class Settings implements PluginConfig {
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{ENV:([A-Za-z_][A-Za-z0-9_]*)}");
    private static final List<String> SECRET_WORDS = List.of("password", "secret", "token", "credential", "keytab");

    private final Map<String, String> values;
    private final String source;
    private final Set<String> used = ConcurrentHashMap.newKeySet();
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());

    private Settings(Map<String, String> raw, Map<String, String> environment, String source) {
        this.source = source;
        Map<String, String> resolved = new TreeMap<>();
        raw.forEach((key, value) -> resolved.put(key, substitute(key, value, environment)));
        this.values = resolved;
    }

    public static Settings of(Map<String, String> values) {
        return new Settings(values, System.getenv(), "built-in defaults");
    }

    public static Settings of(Map<String, String> values, Map<String, String> environment) {
        return new Settings(values, environment, "the given settings");
    }

    public static Settings load(Path file, Map<String, String> environment) throws ConfigurationException {
        requireNonNull(file, "file is null");
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            throw new ConfigurationException(List.of("configuration file " + file + " does not exist"));
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigurationException(List.of("cannot read configuration file " + file + ": "
                    + e.getMessage()));
        }
        Map<String, String> raw = new TreeMap<>();
        properties.stringPropertyNames().forEach(key -> raw.put(key, properties.getProperty(key).strip()));
        return new Settings(raw, environment, file.toString());
    }

    private String substitute(String key, String value, Map<String, String> environment) {
        Matcher m = ENV_REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = environment.get(m.group(1));
            if (replacement == null) {
                problems.add("'" + key + "' references environment variable " + m.group(1) + ", which is not set");
                replacement = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** What makes two settings the same: their source and every value after substitution. */
    public String identity() {
        return source + values;
    }

    public String source() {
        return source;
    }

    /** The configuration file, when there is one. */
    public Optional<Path> file() {
        return source.startsWith("/") ? Optional.of(Path.of(source)) : Optional.empty();
    }

    @Override
    public Optional<String> get(String key) {
        used.add(key);
        return Optional.ofNullable(values.get(key)).filter(v -> !v.isEmpty());
    }

    @Override
    public String get(String key, String defaultValue) {
        return get(key).orElse(defaultValue);
    }

    @Override
    public Path path(String key, Path defaultValue) {
        Optional<String> value = get(key);
        if (value.isEmpty()) {
            return defaultValue;
        }
        try {
            Path path = Path.of(value.get());
            if (!path.isAbsolute()) {
                problem(key, "must be an absolute path, got '" + value.get() + "'");
                return defaultValue;
            }
            return path.normalize();
        } catch (InvalidPathException e) {
            problem(key, "is not a valid path: '" + value.get() + "'");
            return defaultValue;
        }
    }

    @Override
    public int integer(String key, int defaultValue, int min, int max) {
        Optional<String> value = get(key);
        if (value.isEmpty()) {
            return defaultValue;
        }
        try {
            int parsed = Integer.parseInt(value.get());
            if (parsed < min || parsed > max) {
                problem(key, "must be between " + min + " and " + max + ", got " + parsed);
                return defaultValue;
            }
            return parsed;
        } catch (NumberFormatException e) {
            problem(key, "must be a whole number, got '" + display(key, value.get()) + "'");
            return defaultValue;
        }
    }

    @Override
    public long bytes(String key, long defaultValue) {
        Optional<String> value = get(key);
        if (value.isEmpty()) {
            return defaultValue;
        }
        long parsed = Sizes.parse(value.get());
        if (parsed < 0) {
            problem(key, "must be a size such as 512m or 20g, got '" + display(key, value.get()) + "'");
            return defaultValue;
        }
        return parsed;
    }

    @Override
    public List<String> list(String key, List<String> defaultValue) {
        Optional<String> value = get(key);
        if (value.isEmpty()) {
            return defaultValue;
        }
        return Arrays.stream(value.get().split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    @Override
    public Map<String, String> withPrefix(String prefix) {
        Map<String, String> out = new TreeMap<>();
        values.forEach((key, value) -> {
            if (key.startsWith(prefix) && key.length() > prefix.length()) {
                used.add(key);
                out.put(key.substring(prefix.length()), value);
            }
        });
        return out;
    }

    @Override
    public void problem(String key, String message) {
        problems.add("'" + key + "' " + message);
    }

    /** Adds a problem that belongs to no single key. */
    public void problem(String message) {
        problems.add(message);
    }

    /** Throws one exception naming every unknown key and every bad value. */
    public void check() throws ConfigurationException {
        check(Set.of());
    }

    /**
     * Throws one exception naming every bad value and every key that nothing read and no installed plugin declares
     * ({@code declared}: keys, or prefixes ending in '.'), each with the closest known key.
     */
    public void check(Set<String> declared) throws ConfigurationException {
        List<String> all = new ArrayList<>();
        Set<String> unused = new TreeSet<>(values.keySet());
        unused.removeAll(used);
        unused.removeIf(key -> (declared.contains(key) && !key.endsWith("."))
                || declared.stream().anyMatch(d -> d.endsWith(".") && key.startsWith(d) && key.length() > d.length()));
        Set<String> known = new TreeSet<>(used);
        known.addAll(declared);
        for (String key : unused) {
            String closest = Spelling.closest(key, known);
            all.add("unknown key '" + key + "' in " + source + " (no installed plugin declares it; "
                    + (closest != null ? "did you mean '" + closest + "'?)" : "known keys: " + String.join(", ", known)
                    + ")"));
        }
        all.addAll(problems);
        if (!all.isEmpty()) {
            throw new ConfigurationException(all);
        }
    }

    /** Every key and value (secrets masked), for {@code doctor} and debug logs. */
    public Map<String, String> describe() {
        Map<String, String> out = new TreeMap<>();
        values.forEach((key, value) -> out.put(key, display(key, value)));
        return out;
    }

    static boolean isSecret(String key) {
        String lower = key.toLowerCase(Locale.ROOT);
        return SECRET_WORDS.stream().anyMatch(lower::contains);
    }

    private static String display(String key, String value) {
        return isSecret(key) ? "****" : value;
    }
}
