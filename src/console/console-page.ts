/** The console's HTML: a shell the script (client/console/app.ts, served at /console/app.js) fills in. */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ferry console</title>
</head>
<body>
<div id="app">Loading the console&hellip;</div>
<script type="module" src="/console/app.js"></script>
</body>
</html>
`;
