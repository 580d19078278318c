document.getElementById('main').textContent = 'ok';
