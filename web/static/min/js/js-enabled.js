document.body.classList.add("js-enabled"),"noModule"in HTMLScriptElement.prototype&&document.body.classList.add("nhsuk-frontend-supported");
