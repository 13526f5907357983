console.log('demo build: nothing yet')
