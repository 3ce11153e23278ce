// Public entry of the `hive-cells` package: what a workspace's hive.config.ts imports.
export {
  defineConfig,
  type HiveConfigInput,
  type PortSpec,
  type ReadinessProbe,
  type TemplateSpecInput,
} from './templates/schema.js';
