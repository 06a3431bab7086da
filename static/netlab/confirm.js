// Forms that ask first: <form data-confirm="Delete it?"> submits only when the user agrees.
// (A listener here rather than an onsubmit="" attribute: the Content-Security-Policy
// allows no inline script.)
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
