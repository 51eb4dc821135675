// esbuild loads CSS as text (scripts/build-client.mjs): the console injects it in a <style> element.
declare module '*.css' {
  const text: string;
  export default text;
}
