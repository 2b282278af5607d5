package dev.runcible.core.plugin;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The class loader plugins are found in: the launcher's own class path (bundled plugins), plus every jar in the
 * distribution's {@code plugins/} directory and every jar or directory of jars listed in
 * {@code RUNCIBLE_PLUGIN_PATH} (separated by ':').
 */
public final class PluginLoader {
    public static final String PLUGIN_PATH_ENV = "RUNCIBLE_PLUGIN_PATH";
    private static final Logger LOG = LoggerFactory.getLogger(PluginLoader.class);

    private PluginLoader() {
    }

    public static ClassLoader create(Path pluginsDirectory, String pluginPath) {
        return create(pluginsDirectory, pluginPath, PluginLoader.class.getClassLoader());
    }

    public static ClassLoader create(Path pluginsDirectory, String pluginPath, ClassLoader parent) {
        List<URL> urls = new ArrayList<>();
        if (pluginsDirectory != null && Files.isDirectory(pluginsDirectory)) {
            addJars(pluginsDirectory, urls);
        }
        if (pluginPath != null && !pluginPath.isBlank()) {
            for (String entry : pluginPath.split(":")) {
                if (!entry.isBlank()) {
                    addJars(Path.of(entry.strip()), urls);
                }
            }
        }
        if (urls.isEmpty()) {
            return parent;
        }
        LOG.debug("Plugin jars: {}", urls);
        return new URLClassLoader("runcible-plugins", urls.toArray(URL[]::new), parent);
    }

    private static void addJars(Path entry, List<URL> urls) {
        try {
            if (Files.isDirectory(entry)) {
                try (Stream<Path> files = Files.list(entry)) {
                    for (Path jar : files.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                        urls.add(jar.toUri().toURL());
                    }
                }
            } else if (Files.isRegularFile(entry)) {
                urls.add(entry.toUri().toURL());
            } else {
                LOG.warn("Plugin path entry {} does not exist; skipping it", entry);
            }
        } catch (MalformedURLException e) {
            LOG.warn("Plugin path entry {} is not a valid location; skipping it", entry);
        } catch (IOException e) {
            LOG.warn("Cannot list plugin directory {}: {}; skipping it", entry, e.getMessage());
        }
    }
}
