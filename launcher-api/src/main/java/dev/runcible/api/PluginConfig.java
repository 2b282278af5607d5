package dev.runcible.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configuration a plugin reads. Every key read counts as used; keys nobody reads are reported as errors.
 * Typed getters report a bad value as a problem and return the default, so that all problems of a configuration
 * are reported together.
 */
public interface PluginConfig {
    Optional<String> get(String key);

    String get(String key, String defaultValue);

    Path path(String key, Path defaultValue);

    int integer(String key, int defaultValue, int min, int max);

    long bytes(String key, long defaultValue);

    /** {@code true} or {@code false}; anything else is reported as a problem and gives the default. */
    default boolean bool(String key, boolean defaultValue) {
        Optional<String> value = get(key);
        if (value.isEmpty()) {
            return defaultValue;
        }
        String text = value.get().toLowerCase(java.util.Locale.ROOT);
        if (!text.equals("true") && !text.equals("false")) {
            problem(key, "must be true or false, got '" + value.get() + "'");
            return defaultValue;
        }
        return text.equals("true");
    }

    List<String> list(String key, List<String> defaultValue);

    /**
     * Every key starting with {@code prefix}, with the prefix removed, marked used: for settings passed through to
     * a library (such as {@code hadoop.conf.<key>}).
     */
    Map<String, String> withPrefix(String prefix);

    /** Records a problem with a value, to be reported with all the others. */
    void problem(String key, String message);
}
