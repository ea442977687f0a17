/** The Prometheus name of a component's own metric: `tickflow_<component>_<name>`, a `-` in the component's name written `_`. */
export function metricName(component: string, name: string): string {
  return `tickflow_${component.replace(/-/g, '_')}_${name}`;
}
